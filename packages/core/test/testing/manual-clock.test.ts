import { expect } from 'chai';
import { ManualClock } from '../../src/testing/manual-clock.js';

/** Whether `promise` has settled once the queued microtasks ran. */
async function settled(promise: Promise<unknown>): Promise<boolean> {
  let done = false;
  void promise.then(() => { done = true; });
  await new Promise((resolve) => setImmediate(resolve));
  return done;
}

describe('testing: ManualClock', () => {
  it('tells the time it was given and only moves on advance', async () => {
    const clock = new ManualClock(1_000);
    expect(clock.now()).to.equal(1_000);
    await new Promise((resolve) => setTimeout(resolve, 5));
    expect(clock.now()).to.equal(1_000);
    clock.advance(250);
    expect(clock.now()).to.equal(1_250);
  });

  it('starts at the real time by default', () => {
    const before = Date.now();
    const now = new ManualClock().now();
    expect(now).to.be.within(before, Date.now());
  });

  it('resolves a sleep once the time is advanced to its end, not before', async () => {
    const clock = new ManualClock(0);
    const sleep = clock.sleep(100);
    expect(clock.pending).to.equal(1);
    clock.advance(99);
    expect(await settled(sleep)).to.equal(false);
    clock.advance(1);
    expect(await settled(sleep)).to.equal(true);
    expect(clock.pending).to.equal(0);
  });

  it('wakes the sleeps that ended, earliest first, and keeps the others', async () => {
    const clock = new ManualClock(0);
    const woken: number[] = [];
    const sleeps = [300, 100, 200, 1_000].map((ms) => clock.sleep(ms).then(() => woken.push(ms)));
    clock.advance(500);
    await new Promise((resolve) => setImmediate(resolve));
    expect(woken).to.deep.equal([100, 200, 300]);
    expect(clock.pending).to.equal(1);
    clock.advance(500);
    await Promise.all(sleeps);
    expect(woken).to.deep.equal([100, 200, 300, 1_000]);
  });

  it('resolves a sleep of zero (or less) at once, and never moves backwards', async () => {
    const clock = new ManualClock(0);
    expect(await settled(clock.sleep(0))).to.equal(true);
    expect(await settled(clock.sleep(-5))).to.equal(true);
    expect(() => clock.advance(-1)).to.throw(RangeError);
    expect(clock.now()).to.equal(0);
  });

  it('counts a sleep begun after an advance from the new time', async () => {
    const clock = new ManualClock(0);
    clock.advance(1_000);
    const sleep = clock.sleep(10);
    clock.advance(9);
    expect(await settled(sleep)).to.equal(false);
    clock.advance(1);
    expect(await settled(sleep)).to.equal(true);
  });
});
