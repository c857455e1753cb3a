import { expect } from 'chai';
import { Writable } from 'node:stream';
import { RedisCache } from '../../src/cache/redis/redis-cache.js';
import { systemClock } from '../../src/util/clock.js';
import { ClusterLock } from '../../src/pipeline/lock/cluster-lock.js';
import { Metrics } from '../../src/metrics/metrics.js';
import { createLogger } from '../../src/util/logger.js';
import { cacheSuite } from '../../../conformance/src/index.js';
import { clearRedisPrefix, PrivateRedis, REDIS_URL, redisUnavailable, runId } from '../support/services.js';
import { hasProgram } from '../../src/testing/processes.js';
import { skipMissing } from '../../src/testing/skip.js';

describe('RedisCache', function () {
  const prefix = `cf-test-${runId()}`;
  before(async function () {
    const missing = await redisUnavailable();
    if (missing) skipMissing(this, 'Redis', missing);
  });
  after(async () => { if (!await redisUnavailable()) await clearRedisPrefix(prefix); });

  const open = () => new RedisCache({ url: REDIS_URL, prefix, commandTimeout: 2000 });
  cacheSuite('RedisCache', {
    create: async () => { const cache = open(); await cache.ready(); return cache; },
    connectAgain: async () => { const cache = open(); await cache.ready(); return cache; },
    residue: async (cache) => (cache as RedisCache).keys(),
  });
});

/** Captures log lines as objects. */
function capturingLogger() {
  const lines: Record<string, unknown>[] = [];
  const stream = new Writable({ write(chunk: Buffer, _encoding, callback) { lines.push(JSON.parse(chunk.toString()) as Record<string, unknown>); callback(); } });
  return { lines, log: createLogger('info', stream) };
}

describe('RedisCache when Redis goes away and comes back', function () {
  this.timeout(30_000);
  const redis = new PrivateRedis();
  let cache: RedisCache;
  before(async function () {
    if (!hasProgram('redis-server')) skipMissing(this, 'redis-server', 'not on PATH');
    await redis.start();
    cache = new RedisCache({ url: redis.url, prefix: 'cf', commandTimeout: 1000 });
    await cache.ready();
  });
  after(async () => {
    await cache?.close();
    await redis.destroy();
  });

  it('fails commands at once with CF_ERR_CACHE_BACKEND (never a silent miss), degrades fill locks with a warning and a metric, and recovers', async () => {
    const metrics = new Metrics();
    const { lines, log } = capturingLogger();
    const lock = new ClusterLock<string>(cache, metrics, log, { ttl: 5000, wait: 2000 }, systemClock);
    const gauge = async () => (await metrics.registry.getSingleMetric('cacheforge_lock_degraded')!.get()).values[0]?.value;
    const run = (value: string) => lock.run('files\u0000a.tgz', { recheck: async () => undefined, fetch: async () => value, holdUntil: async () => undefined });

    await cache.set('before', 1);
    expect(await run('shared')).to.equal('shared');
    expect(lock.isDegraded).to.equal(false);

    await redis.stop();
    const started = Date.now();
    const err = await cache.get('before').then(() => undefined, (e: { code?: string }) => e);
    expect(err?.code).to.equal('CF_ERR_CACHE_BACKEND');
    expect(Date.now() - started).to.be.below(1500);
    expect((await cache.tryLock('x', 1000).then(() => undefined, (e: { code?: string }) => e))?.code).to.equal('CF_ERR_CACHE_BACKEND');

    expect(await run('local')).to.equal('local');
    expect(lock.isDegraded).to.equal(true);
    expect(await gauge()).to.equal(1);
    expect(lines.some((l) => l.level === 'warn' && /fill locks are per process/.test(String(l.msg)))).to.equal(true);
    const exposition = await metrics.registry.metrics();
    expect(exposition).to.match(/cacheforge_lock_fallbacks_total\{reason="cache_down"\} [1-9]/);

    await redis.start();
    const deadline = Date.now() + 10_000;
    while (Date.now() < deadline && (await cache.ping().then(() => false, () => true))) await new Promise((r) => setTimeout(r, 100));
    expect(await run('shared again')).to.equal('shared again');
    expect(lock.isDegraded).to.equal(false);
    expect(await gauge()).to.equal(0);
    expect(lines.some((l) => /shared across replicas again/.test(String(l.msg)))).to.equal(true);
    // The restarted Redis holds nothing (no persistence): a miss now is a real miss, and writes work.
    expect(await cache.get('before')).to.equal(undefined);
    await cache.set('after', 2);
    expect(await cache.get('after')).to.equal(2);
  });

  it('starts while Redis is down (answering CF_ERR_CACHE_BACKEND within its timeout, never hanging) and connects once Redis is up', async () => {
    await redis.stop();
    const late = new RedisCache({ url: redis.url, prefix: 'cf-late', commandTimeout: 500 });
    try {
      const started = Date.now();
      expect((await late.ping().then(() => undefined, (e: { code?: string }) => e))?.code).to.equal('CF_ERR_CACHE_BACKEND');
      expect((await late.get('k').then(() => undefined, (e: { code?: string }) => e))?.code).to.equal('CF_ERR_CACHE_BACKEND');
      expect(Date.now() - started).to.be.below(2000);
      await redis.start();
      const deadline = Date.now() + 10_000;
      while (Date.now() < deadline && (await late.ping().then(() => false, () => true))) await new Promise((r) => setTimeout(r, 100));
      await late.set('k', 'v');
      expect(await late.get('k')).to.equal('v');
    } finally {
      await late.close();
    }
  });
});
