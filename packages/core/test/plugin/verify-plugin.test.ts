import { expect } from 'chai';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { pluginSuite } from '../../../conformance/src/index.js';
import { verifyPlugin } from '../../src/plugin/verify.js';
import { runCli } from '../cli/run-cli.js';
import { GREET_PLUGIN } from './fixtures.js';
import { TALLY_PLUGIN, declaringPlugin } from './metrics-fixture.js';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../../..');
// Written at load time: a suite's specifier is fixed when mocha collects the tests.
const DIR = mkdtempSync(path.join(tmpdir(), 'cf-verify-'));
writeFileSync(path.join(DIR, 'greet.mjs'), GREET_PLUGIN);
// Plugins that count into the core's metrics: declared as at start, against a registry of their own.
writeFileSync(path.join(DIR, 'tally.mjs'), TALLY_PLUGIN);
writeFileSync(path.join(DIR, 'miscount.mjs'), declaringPlugin('miscount', `context.metrics.counter({ name: 'hits.total', help: 'h' });`));
writeFileSync(path.join(DIR, 'sloppy.mjs'), `export default {
  name: 'sloppy',
  core: '^0.1.0',
  createHandler() {
    let calls = 0;
    return {
      canHandle(req) {
        calls += 1;
        if (req.segments.length > 20) throw new Error('too deep for me');
        if (req.path.endsWith('.sha256')) return { kind: 'refused', status: 500, reason: 'no' };
        if (req.path === 'index.html') return { kind: 'cached', key: 'index.html', variant: String(calls) };
        if (req.path.startsWith('a/b/c')) return { kind: 'cached', key: 'a/b/c' };
        return undefined;
      },
      async fetch() { throw new Error('unreachable'); },
    };
  },
};
`);
// A format that answers `<doc>/summary` from the document `<doc>` caches (as npm's versions are).
writeFileSync(path.join(DIR, 'views.mjs'), `export default {
  name: 'views',
  core: '^0.1.0',
  createHandler() {
    return {
      canHandle(req) {
        if (req.segments.length === 1 || (req.segments.length === 2 && req.segments[1] === 'summary')) return { kind: 'cached', key: req.segments[0] };
        return undefined;
      },
      async fetch() { throw new Error('unreachable'); },
    };
  },
};
`);

describe('plugin conformance (verify-plugin)', () => {
  after(() => rmSync(DIR, { recursive: true, force: true }));

  pluginSuite('@cacheforge/plugin-generic', { cwd: ROOT });
  pluginSuite(path.join(DIR, 'greet.mjs'), { cwd: DIR, remote: { upstream: 'http://127.0.0.1:9/', greeting: 'hi' }, samples: ['hello/you', 'files/x/y.tgz'] });

  pluginSuite(path.join(DIR, 'tally.mjs'), { cwd: DIR, remote: { upstream: 'http://127.0.0.1:9/' }, samples: ['files/a/b.txt'] });

  it('fails createHandler when a metric declaration is invalid, with the reason', async () => {
    const report = await verifyPlugin('./miscount.mjs', { cwd: DIR, remote: { upstream: 'http://127.0.0.1:9/' } });
    const check = report.checks.find((c) => c.name === 'createHandler returns { canHandle, fetch }')!;
    expect(check.ok).to.equal(false);
    expect(check.detail).to.include('metric name "hits.total" is not a valid name');
  });

  it('accepts paths that share a key when they are declared views of one document, and only those', async function () {
    this.timeout(30_000);
    const collisions = async (views?: Record<string, string>) => {
      const report = await verifyPlugin('./views.mjs', { cwd: DIR, remote: { upstream: 'http://127.0.0.1:9/' }, samples: ['doc', 'doc/summary', 'other', 'other/summary'], views });
      return report.checks.find((c) => c.name === 'different paths get different cache keys')!;
    };
    const undeclared = await collisions();
    expect(undeclared.detail).to.equal('verify: /doc and /doc/summary both cache as "doc"; verify: /other and /other/summary both cache as "other"');
    const declared = await collisions({ 'doc/summary': 'doc' });
    expect(declared.detail).to.equal('verify: /other and /other/summary both cache as "other"');
    expect((await collisions({ 'doc/summary': 'doc', 'other/summary': 'other' })).ok).to.equal(true);
  });

  it('cacheforge verify-plugin passes a conforming plugin (exit 0)', async function () {
    this.timeout(30_000);
    const result = await runCli(['verify-plugin', '@cacheforge/plugin-generic'], { cwd: ROOT });
    expect(result.code, result.stderr).to.equal(0);
    expect(result.stdout).to.include('plugin @cacheforge/plugin-generic (format generic)');
    expect(result.stdout).to.include('ok    canHandle is pure: the same answer twice, the request untouched');
    expect(result.stdout.trim().split('\n').at(-1)).to.equal('plugin conforms');
  });

  it('cacheforge verify-plugin names every broken rule of a sloppy plugin (exit 1)', async function () {
    this.timeout(30_000);
    const result = await runCli(['verify-plugin', './sloppy.mjs'], { cwd: DIR });
    expect(result.code, result.stderr).to.equal(1);
    const lines = result.stdout.split('\n');
    const failed = (name: string) => lines.find((l) => l.includes(`FAIL  ${name}`));
    expect(failed('canHandle never throws on a valid path')).to.include('too deep for me');
    expect(failed('canHandle answers a valid route or nothing')).to.include('status 500');
    expect(failed('canHandle is pure: the same answer twice, the request untouched')).to.include('/index.html');
    expect(failed('different paths get different cache keys')).to.include('both cache as "a/b/c"');
    expect(lines.find((l) => l.includes('loads and satisfies the plugin contract'))).to.match(/^\s+ok /);
    expect(result.stdout).to.include('plugin does not conform: 4 of 7 checks failed');
  });

  it('cacheforge verify-plugin reports a plugin that does not load, and a missing argument', async function () {
    this.timeout(30_000);
    const missing = await runCli(['verify-plugin', './nope.mjs'], { cwd: DIR });
    expect(missing.code).to.equal(1);
    expect(missing.stdout).to.match(/FAIL  loads and satisfies the plugin contract: CF_ERR_PLUGIN_NOT_FOUND/);
    const usage = await runCli(['verify-plugin'], { cwd: DIR });
    expect(usage.code).to.equal(2);
    expect(usage.stderr).to.include('verify-plugin takes one plugin name or path');
  });
});
