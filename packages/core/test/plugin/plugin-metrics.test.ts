import { expect } from 'chai';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { FakeUpstream } from '../../src/testing/fake-upstream.js';
import { startCacheForge, type RunningCacheForge } from '../../src/testing/harness.js';
import { writeTestConfig } from '../../src/testing/config.js';
import { request } from '../../src/testing/http.js';
import { LogCapture } from '../../src/testing/log-capture.js';
import { waitFor } from '../../src/testing/wait.js';
import { loadConfig } from '../../src/plugin/load-config.js';
import { createContainer } from '../../src/container.js';
import { CacheForgeServer } from '../../src/server/server.js';
import { createLogger } from '../../src/util/logger.js';
import { runCli, TempDir, baseConfig } from '../cli/run-cli.js';
import { TALLY_PLUGIN, declaringPlugin } from './metrics-fixture.js';

/** The samples of metric `name` in Prometheus' text format, each with its labels. */
function samples(text: string, name: string): { labels: Record<string, string>; value: number }[] {
  const found = [];
  for (const line of text.split('\n')) {
    const match = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{(.*)\})? (\S+)$/.exec(line);
    if (!match || match[1] !== name) continue;
    const labels = Object.fromEntries([...(match[2] ?? '').matchAll(/(\w+)="([^"]*)"/g)].map((m) => [m[1]!, m[2]!]));
    found.push({ labels, value: Number(match[3]) });
  }
  return found;
}

/** The value of the one sample of `name` with exactly `labels`, or undefined. */
function value(text: string, name: string, labels: Record<string, string>): number | undefined {
  return samples(text, name).find((s) => JSON.stringify(Object.entries(s.labels).sort()) === JSON.stringify(Object.entries(labels).sort()))?.value;
}

describe('plugin metrics: a plugin counts into /-/metrics, labelled by remote, and logs with its remote', () => {
  let dir: string;
  let upstream: FakeUpstream;
  let cf: RunningCacheForge;
  const logs = new LogCapture();

  before(async () => {
    dir = await mkdtemp(path.join(tmpdir(), 'cf-tally-'));
    const pluginFile = path.join(dir, 'tally.mjs');
    await writeFile(pluginFile, TALLY_PLUGIN);
    upstream = await new FakeUpstream().start();
    upstream.set('/small.txt', { body: Buffer.alloc(50, 'a') });
    upstream.set('/large.bin', { body: Buffer.alloc(5000, 'b') });
    cf = await startCacheForge({
      plugins: [pluginFile],
      remotes: { ta: { type: 'file-tally', upstream: upstream.url }, tb: { type: 'file-tally', upstream: upstream.url } },
    }, { logTo: logs, logLevel: 'info' });
  });
  after(async () => {
    await cf.cleanup();
    await upstream.stop();
    await rm(dir, { recursive: true, force: true });
  });

  it('shows every remote\'s counts under one family per format, prefixed with the format', async () => {
    const before = await request(`${cf.url}/-/metrics`);
    // Declared at start: a counter with no labels of its own is 0 for each remote before any request.
    expect(value(before.body.toString(), 'cacheforge_file_tally_unlisted_files_total', { remote: 'ta' })).to.equal(0);
    expect(value(before.body.toString(), 'cacheforge_file_tally_unlisted_files_total', { remote: 'tb' })).to.equal(0);

    for (const [remote, file] of [['ta', 'small.txt'], ['ta', 'small.txt'], ['ta', 'small.txt'], ['tb', 'large.bin']]) {
      const res = await request(`${cf.url}/${remote}/files/${file}`);
      expect(res.status, `${remote}/${file}`).to.equal(200);
      await cf.fillsSettled();
    }

    const scraped = await request(`${cf.url}/-/metrics`);
    expect(scraped.status).to.equal(200);
    expect(scraped.headers['content-type']).to.match(/^text\/plain/);
    const text = scraped.body.toString();
    expect(samples(text, 'cacheforge_file_tally_answers_total')).to.have.deep.members([
      { labels: { remote: 'ta', cache: 'miss' }, value: 1 },
      { labels: { remote: 'ta', cache: 'hit' }, value: 2 },
      { labels: { remote: 'tb', cache: 'miss' }, value: 1 },
    ]);
    expect(value(text, 'cacheforge_file_tally_last_size_bytes', { remote: 'ta' })).to.equal(50);
    expect(value(text, 'cacheforge_file_tally_last_size_bytes', { remote: 'tb' })).to.equal(5000);
    expect(value(text, 'cacheforge_file_tally_file_size_bytes_count', { remote: 'ta' })).to.equal(3);
    expect(value(text, 'cacheforge_file_tally_file_size_bytes_sum', { remote: 'tb' })).to.equal(5000);
    expect(value(text, 'cacheforge_file_tally_file_size_bytes_bucket', { remote: 'tb', le: '100' })).to.equal(0);
    expect(value(text, 'cacheforge_file_tally_file_size_bytes_bucket', { remote: 'tb', le: '10000' })).to.equal(1);
    // One family for both remotes: declared twice (once per remote), described once.
    expect(text.match(/^# TYPE cacheforge_file_tally_answers_total counter$/gm)).to.have.length(1);
    expect(text).to.include('# HELP cacheforge_file_tally_answers_total Answers of the tally handler, by cache status.');
    expect(text.match(/^# TYPE cacheforge_file_tally_file_size_bytes histogram$/gm)).to.have.length(1);
  });

  it("gives the plugin a logger whose lines carry the format and the remote", async () => {
    await request(`${cf.url}/tb/files/small.txt`);
    const answered = () => logs.lines.find((l) => l.msg === 'tally answered' && l.remote === 'tb' && l.key === 'small.txt');
    await waitFor("the plugin's log line", () => answered() !== undefined);
    expect(answered()).to.include({ plugin: 'file-tally', remote: 'tb', key: 'small.txt', level: 'info' });
    // The per-request logger of fetch() carries the same two.
    const fetched = logs.lines.filter((l) => l.msg === 'tally fetched' && l.key === 'small.txt').map((l) => [l.plugin, l.remote]);
    expect(fetched).to.deep.include(['file-tally', 'tb']);
  });
});

describe('plugin metrics: a declaration the core cannot serve stops the start, naming the plugin and the metric', () => {
  let dir: string;

  before(async () => { dir = await mkdtemp(path.join(tmpdir(), 'cf-tally-bad-')); });
  after(async () => { await rm(dir, { recursive: true, force: true }); });

  /** Starts Cache Forge in this process with `plugin` serving remotes `a` and `b`; resolves with why it failed. */
  async function startFailure(name: string, plugin: string): Promise<Error & { code?: string }> {
    const pluginFile = path.join(dir, `${name}.mjs`);
    await writeFile(pluginFile, plugin);
    const dataDir = await mkdtemp(path.join(dir, 'data-'));
    const file = await writeTestConfig(dataDir, { plugins: [pluginFile], remotes: { a: { type: name, upstream: 'http://127.0.0.1:9/' }, b: { type: name, upstream: 'http://127.0.0.1:9/' } } });
    const { config, plugins } = await loadConfig({ configPath: file });
    const server = new CacheForgeServer(createContainer(config, plugins, createLogger('silent')));
    try {
      await server.start();
    } catch (err) {
      return err as Error;
    } finally {
      await server.stop('test');
    }
    return expect.fail('the start should have failed');
  }

  const cases: [what: string, format: string, declare: string, message: string][] = [
    ['an invalid name', 'badname', `context.metrics.counter({ name: 'bad-name', help: 'h' });`,
      'metric name "bad-name" is not a valid name: a letter, then letters, digits and _ (at most 100)'],
    ['a name that writes the prefix itself', 'pfx', `context.metrics.counter({ name: 'cacheforge_pfx_x_total', help: 'h' });`,
      'metric name "cacheforge_pfx_x_total" must not include the prefix: the core adds cacheforge_pfx_ itself'],
    ['no help text', 'nohelp', `context.metrics.gauge({ name: 'depth' });`, 'metric cacheforge_nohelp_depth needs a help text'],
    ['the core\'s own label', 'ownlabel', `context.metrics.counter({ name: 'x_total', help: 'h', labelNames: ['remote'] });`,
      'metric cacheforge_ownlabel_x_total: label name "remote" is reserved (the core sets remote; le is a histogram\'s)'],
    ['an invalid label', 'badlabel', `context.metrics.counter({ name: 'x_total', help: 'h', labelNames: ['a-b'] });`,
      'metric cacheforge_badlabel_x_total: label name "a-b" is not a valid label name'],
    ['buckets out of order', 'buckets', `context.metrics.histogram({ name: 'size_bytes', help: 'h', buckets: [10, 5] });`,
      'metric cacheforge_buckets_size_bytes: buckets must be a non-empty list of finite, increasing numbers'],
    ['a counter on the series of a histogram', 'series',
      `context.metrics.histogram({ name: 'wait_seconds', help: 'h' }); context.metrics.counter({ name: 'wait_seconds_count', help: 'h' });`,
      'metric cacheforge_series_wait_seconds_count would write the series cacheforge_series_wait_seconds_count, which another metric of this process already writes'],
    ['a name a core metric has (a format called storage)', 'storage', `context.metrics.histogram({ name: 'operation_seconds', help: 'h' });`,
      'metric cacheforge_storage_operation_seconds would write the series cacheforge_storage_operation_seconds, which another metric of this process already writes'],
  ];
  for (const [what, format, declare, message] of cases) {
    it(`refuses ${what}`, async () => {
      const err = await startFailure(format, declaringPlugin(format, declare));
      expect(err.code).to.equal('CF_ERR_PLUGIN_CONTRACT');
      expect(err.message).to.equal(`plugin ${path.join(dir, `${format}.mjs`)} (remote a): ${message}`);
    });
  }

  it('the CLI start exits 2 when the second remote of a format declares a name as another kind', async () => {
    const temp = await TempDir.create('cf-tally-cli-');
    try {
      await temp.write('clash.mjs', declaringPlugin('clash', `
        if (remote.name === 'first') context.metrics.counter({ name: 'hits_total', help: 'Hits.', labelNames: ['kind'] });
        else context.metrics.gauge({ name: 'hits_total', help: 'Hits.' });`));
      const file = await temp.write('cacheforge.config.json', baseConfig(temp, {
        storage: { filesystem: { path: temp.join('blobs') } },
        metadata: { sqlite: { filename: temp.join('cacheforge.db') } },
        plugins: ['./clash.mjs'],
        remotes: { first: { type: 'clash', upstream: 'http://127.0.0.1:9/' }, second: { type: 'clash', upstream: 'http://127.0.0.1:9/' } },
      }));
      const result = await runCli(['start', '--config', file], { cwd: temp.join('.') });
      expect(result.code).to.equal(2);
      expect(result.stdout).not.to.include('cacheforge listening');
      expect(result.stderr).to.equal('cacheforge: CF_ERR_PLUGIN_CONTRACT: plugin ./clash.mjs (remote second): metric cacheforge_clash_hits_total is declared as '
        + 'a gauge with labels [remote], but it was declared before as a counter with labels [remote, kind]; a name is one metric for every remote of the format\n');
    } finally {
      await temp.remove();
    }
  });
});
