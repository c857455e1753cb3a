import { expect } from 'chai';
import { LogCapture, request, requirePrograms, skipMissing, startCacheForge, type RunningCacheForge } from '@cacheforge/core/testing';
import { pickMirror, readAptSources } from '../src/apt-sources.js';
import { AptClient } from './support/apt.js';

const KEYRING = '/usr/share/keyrings/debian-archive-keyring.gpg';

// The machine's own Debian mirror, found at run time from its apt sources: its name is never
// written down here. Skipped by name (failing under CI=true) when it cannot be reached.
describe('plugin-apt: real apt-get against the machine\'s Debian mirror, through Cache Forge', function () {
  this.timeout(900_000);
  const logs = new LogCapture();
  let cf: RunningCacheForge;
  let mirror: URL;
  let suite: string;
  const clients: AptClient[] = [];

  before(async function () {
    requirePrograms(this, ['apt-get']);
    const source = (await readAptSources()).find((s) => pickMirror([s]));
    if (!source) skipMissing(this, 'a Debian mirror', 'no http deb source in /etc/apt');
    mirror = pickMirror([source])!;
    suite = source.suites[0]!;
    // No upstream: the remote discovers the same mirror itself.
    cf = await startCacheForge({ plugins: ['@cacheforge/plugin-apt'], remotes: { debian: { type: 'apt' } } }, { logTo: logs, logLevel: 'info' });
    const probe = await request(`${cf.url}/debian/dists/${suite}/InRelease`).catch(() => undefined);
    if (probe?.status !== 200) skipMissing(this, 'the Debian mirror of /etc/apt', `InRelease through the cache answered ${probe?.status ?? 'nothing'}`);
  });
  after(async () => {
    await cf?.cleanup();
    for (const c of clients) await c.cleanup();
  });

  async function client(sources: string, proxy?: string): Promise<AptClient> {
    const c = await AptClient.create(sources, { proxy });
    clients.push(c);
    return c;
  }

  async function run(c: AptClient): Promise<void> {
    const update = await c.aptGet('update');
    expect(update.code, update.output).to.equal(0);
    expect(update.output).to.not.match(/^(W|E):/m);
    const download = await c.aptGet('download', 'hello');
    expect(download.code, download.output).to.equal(0);
    expect((await c.downloaded()).some((f) => /^hello_.*\.deb$/.test(f))).to.equal(true);
    const install = await c.aptGet('install', '-y', '--download-only', 'hello');
    expect(install.code, install.output).to.equal(0);
    const archived = await c.archived();
    expect(archived.some((f) => f.startsWith('libc6_')), archived.join(' ')).to.equal(true);
  }

  it('as a sources.list mirror: update, download hello, install --download-only of hello with its dependencies', async () => {
    await run(await client(`deb [signed-by=${KEYRING}] ${cf.url}/debian/ ${suite} main\n`));
    await cf.fillsSettled();
    const indexed = logs.lines.filter((l) => l.msg === 'read the pool files an index lists');
    expect(indexed.length).to.be.greaterThan(0);
    for (const l of indexed) console.log(`      index map: ${String(l.files)} pool files read in ${String(l.ms)} ms, process RSS ${String(l.rssMiB)} MiB`);
    // Every .deb was checked against its Packages entry: none was fetched unlisted.
    const metrics = (await request(`${cf.url}/-/metrics`)).body.toString();
    expect(metrics).to.not.match(/cacheforge_apt_unlisted_pool_files_total\{remote="debian"\} [1-9]/);
  });

  it('in proxy mode: sources name the mirror, Acquire::http::Proxy names the cache', async () => {
    await run(await client(`deb [signed-by=${KEYRING}] ${mirror.href} ${suite} main\n`, `${cf.url}/`));
    const hits = logs.lines.filter((l) => l.msg === 'request' && String(l.path ?? '').includes('/pool/') && l.cache === 'HIT');
    expect(hits.length, 'pool files served from the cache in proxy mode').to.be.greaterThan(0);
  });
});
