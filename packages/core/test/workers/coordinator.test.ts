import { expect } from 'chai';
import { EventEmitter } from 'node:events';
import { Counter, Registry } from 'prom-client';
import { Coordinator } from '../../src/workers/coordinator.js';
import { WorkerChannel, type Endpoint } from '../../src/workers/worker-channel.js';
import { SharedHotIndex } from '../../src/workers/shared-hot-index.js';
import { IpcCache } from '../../src/workers/ipc-cache.js';
import { KeyvCache } from '../../src/cache/keyv/keyv-cache.js';
import { createLogger } from '../../src/util/logger.js';
import { workerCount } from '../../src/workers/worker-count.js';
import type { HotEntry } from '../../src/pipeline/lookup/hot-index.js';
import type { WorkerMessage } from '../../src/workers/messages.js';

/** A worker's end of the channel, delivering to the coordinator asynchronously, as IPC does. */
function connect(coordinator: Coordinator, id: number): WorkerChannel {
  const events = new EventEmitter();
  const endpoint: Endpoint = {
    connected: true,
    send: (message: WorkerMessage, callback?: (error: Error | null) => void) => {
      setImmediate(() => { coordinator.receive(id, message); callback?.(null); });
      return true;
    },
    on: (event, listener) => events.on(event, listener),
  };
  coordinator.attach(id, (message) => setImmediate(() => events.emit('message', message)));
  return new WorkerChannel(endpoint, 'instance', id);
}

const settle = () => new Promise((resolve) => setTimeout(resolve, 20));

function entry(digest: string, checkedAt: number): HotEntry {
  return {
    checkedAt,
    record: {
      remote: 'r', key: 'k', variant: '', digest, size: 3, headers: {}, class: 'mutable', fetchedAt: checkedAt, checkedAt, hits: 0, lastAccess: 0,
    },
  } as HotEntry;
}

describe('workers: what the primary keeps for its workers (in process)', () => {
  const log = createLogger('silent');
  let coordinator: Coordinator;
  let one: WorkerChannel;
  let two: WorkerChannel;

  beforeEach(() => {
    coordinator = new Coordinator(new KeyvCache({ name: 'memory' }), log);
    one = connect(coordinator, 1);
    two = connect(coordinator, 2);
  });

  it('a hot-index entry set with other bytes or dropped in one worker is dropped in the other; the same bytes move freshness forward', async () => {
    const a = new SharedHotIndex(one, 1024, 512);
    const b = new SharedHotIndex(two, 1024, 512);
    const digest1 = '1'.repeat(64);
    const digest2 = '2'.repeat(64);
    a.set('k', entry(digest1, 100));
    b.set('k', entry(digest1, 100));
    await settle();
    expect(a.get('k')?.record.digest).to.equal(digest1);
    a.set('k', entry(digest1, 200)); // the same bytes, checked later
    await settle();
    expect(b.get('k')?.checkedAt).to.equal(200);
    a.set('k', entry(digest2, 300)); // new bytes (a commit)
    await settle();
    expect(b.get('k')).to.equal(undefined);
    b.set('k', entry(digest2, 300));
    await settle();
    expect(a.get('k')?.record.digest).to.equal(digest2); // a record read back is no news
    b.delete('k'); // a purge
    await settle();
    expect(a.get('k')).to.equal(undefined);
  });

  it('the embedded hot cache is one for all workers: values and locks', async () => {
    const a = new IpcCache(one);
    const b = new IpcCache(two);
    await a.set('neg:x', 5, 60_000);
    expect(await b.get('neg:x')).to.equal(5);
    expect(await b.get('absent')).to.equal(undefined);
    const release = await a.tryLock('fill:x', 60_000);
    expect(release).to.be.a('function');
    expect(await b.tryLock('fill:x', 60_000)).to.equal(undefined);
    await release!();
    expect(await b.tryLock('fill:x', 60_000)).to.be.a('function');
    // A worker that exits gives up its locks.
    coordinator.detach(2);
    expect(await a.tryLock('fill:x', 60_000)).to.be.a('function');
  });

  it('metrics are every worker\'s summed', async () => {
    for (const [channel, n] of [[one, 3], [two, 4]] as const) {
      const registry = new Registry();
      new Counter({ name: 'cacheforge_requests_total', help: 'h', labelNames: ['remote'], registers: [registry] }).inc({ remote: 'r' }, n);
      channel.onMetricsCollect = () => registry.getMetricsAsJSON();
    }
    const text = await one.request<string>({ op: 'metrics' });
    expect(text).to.match(/cacheforge_requests_total\{remote="r"\} 7/);
  });

  it('a key has one holder; a waiter hears the holder let it go, with its error', async () => {
    const granted = await one.request<{ granted: boolean; gen: number }>({ op: 'lock', key: 'k' });
    expect(granted.granted).to.equal(true);
    const heard: string[] = [];
    two.watch('k', (event) => heard.push(`${event.t}:${event.t === 'released' ? event.error?.code : ''}`));
    const queued = await two.request<{ granted: boolean; gen: number }>({ op: 'lock', key: 'k' });
    expect(queued).to.deep.equal({ granted: false, gen: granted.gen });
    one.post({ cf: 1, t: 'unlock', key: 'k', gen: granted.gen, error: { code: 'CF_ERR_UPSTREAM_NOT_FOUND', message: 'gone' } });
    await settle();
    expect(heard).to.deep.equal(['released:CF_ERR_UPSTREAM_NOT_FOUND']);
    expect(coordinator.held).to.equal(0);
  });

  it('"auto" is one worker per CPU', () => {
    expect(workerCount('auto', () => 6)).to.equal(6);
    expect(workerCount(3, () => 6)).to.equal(3);
  });
});
