import { expect } from 'chai';
import { createHash } from 'node:crypto';
import { request, startCacheForge, type RunningCacheForge } from '@cacheforge/core/testing';
import plugin from '../src/index.js';
import { MavenFixture } from './support/maven-fixture.js';

describe('plugin-maven: remotes', () => {
  it('the embedded defaults serve Maven Central at /central/', async () => {
    expect(await plugin.defaultRemotes!({ env: {}, log: undefined as never } as Parameters<NonNullable<typeof plugin.defaultRemotes>>[0]))
      .to.deep.equal({ central: { upstream: 'https://repo.maven.apache.org/maven2/' } });
  });

  describe('a portal that redirects its jars to another repository (the Gradle Plugin Portal to Central)', () => {
    const portal = new MavenFixture();
    const central = new MavenFixture();
    let cf: RunningCacheForge;
    const key = 'org/cacheforge/portal/1.0/portal-1.0.jar';
    const jar = Buffer.from('a plugin jar kept on the other host');
    before(async () => {
      await portal.start();
      await central.start();
      central.put(key, jar);
      portal.redirects.set(key, `${central.url}${key}`);
      portal.redirects.set(`${key}.sha1`, `${central.url}${key}.sha1`);
      cf = await startCacheForge({
        plugins: ['@cacheforge/plugin-maven'],
        remotes: { plugins: { type: 'maven', upstream: portal.url, allowedHosts: [new URL(central.url).host] } },
      });
    });
    after(async () => {
      await cf?.cleanup();
      await portal.stop();
      await central.stop();
    });

    it('follows the redirect to an allowed host, verifies the jar against its sha1 there, and serves it as a hit next time', async () => {
      const first = await request(`${cf.url}/plugins/${key}`);
      expect(first.status).to.equal(200);
      expect(first.body.equals(jar)).to.equal(true);
      const sum = await request(`${cf.url}/plugins/${key}.sha1`);
      expect(sum.body.toString()).to.equal(createHash('sha1').update(jar).digest('hex'));
      await cf.fillsSettled();
      const second = await request(`${cf.url}/plugins/${key}`);
      expect(second.headers['x-cache-status']).to.equal('HIT');
      expect(central.asked(key)).to.equal(1);
    });
  });
});
