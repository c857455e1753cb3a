import { expect } from 'chai';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { gzipSync } from 'node:zlib';
import { loadConfig } from '@cacheforge/core';
import { POOL_ENTRIES, PoolIndex } from '../src/pool-index.js';

/** A Packages index of `count` entries shaped like Debian's (about 800 bytes a stanza). */
function debianLike(count: number, tag = ''): Buffer {
  const stanzas: string[] = [];
  for (let i = 0; i < count; i += 1) {
    const name = `package-${tag}${i}`;
    stanzas.push([
      `Package: ${name}`, 'Version: 1.2.3-4+b1', 'Installed-Size: 1234', 'Maintainer: Debian Maintainers <maint@lists.example.org>',
      'Architecture: amd64', 'Depends: libc6 (>= 2.34), libgcc-s1 (>= 3.0), libstdc++6 (>= 11)',
      `Description: a package of the benchmark's shape, number ${i}`,
      ' with a longer description that runs over two lines, as most of them do, and says nothing much.',
      'Homepage: https://example.org/project', `Description-md5: ${(i * 7919).toString(16).padStart(32, '0')}`,
      'Tag: devel::library, implemented-in::c, role::shared-lib', 'Section: libs', 'Priority: optional',
      `Filename: pool/main/${name[0]}/${name}/${name}_1.2.3-4+b1_amd64.deb`, `Size: ${10_000 + i}`,
      `MD5sum: ${i.toString(16).padStart(32, '0')}`, `SHA256: ${i.toString(16).padStart(64, 'A')}`,
    ].join('\n'));
  }
  return Buffer.from(`${stanzas.join('\n\n')}\n`);
}

/** The heap in use after full garbage collections (gc is exposed to this test alone). */
function settledHeap(): number {
  setFlagsFromString('--expose-gc');
  const gc = runInNewContext('gc') as () => void;
  gc();
  gc();
  return process.memoryUsage().heapUsed;
}

describe('plugin-apt: the pool map stays bounded', () => {
  it('keeps at most its limit of entries, the least recently listed going first', async () => {
    const pool = new PoolIndex(1000);
    await pool.add(debianLike(1000, 'a'), 'main/binary-amd64/Packages');
    await pool.add(debianLike(10, 'a'), 'main/binary-i386/Packages'); // listed again: now the newest
    await pool.add(debianLike(500, 'b'), 'contrib/binary-amd64/Packages');
    expect(pool.size).to.equal(1000);
    expect(pool.get('pool/main/p/package-a5/package-a5_1.2.3-4+b1_amd64.deb')?.size).to.equal(10_005);
    expect(pool.get('pool/main/p/package-a10/package-a10_1.2.3-4+b1_amd64.deb')).to.equal(undefined);
    expect(pool.get('pool/main/p/package-a509/package-a509_1.2.3-4+b1_amd64.deb')).to.equal(undefined);
    expect(pool.get('pool/main/p/package-a510/package-a510_1.2.3-4+b1_amd64.deb')?.sha256).to.match(/^a+1fe$/);
    expect(pool.get('pool/main/p/package-b499/package-b499_1.2.3-4+b1_amd64.deb')?.size).to.equal(10_499);
    expect(new PoolIndex().limit).to.equal(POOL_ENTRIES);
  });

  it('holds an index of 40,000 entries (30 MB plain, and gzip) in under 600 bytes an entry once read: the text is not kept', async function () {
    this.timeout(60_000);
    for (const [name, bytes] of [['main/binary-amd64/Packages', (n: number) => debianLike(n)], ['main/binary-amd64/Packages.gz', (n: number) => gzipSync(debianLike(n), { level: 1 })]] as const) {
      let body: Buffer | undefined = bytes(40_000);
      const before = settledHeap();
      const pool = new PoolIndex();
      expect(await pool.add(body, name)).to.equal(40_000);
      body = undefined;
      const perEntry = (settledHeap() - before) / pool.size;
      expect(perEntry, `${name}: heap bytes an entry`).to.be.below(600);
      expect(pool.get('pool/main/p/package-39999/package-39999_1.2.3-4+b1_amd64.deb')?.size).to.equal(49_999);
    }
  });

  it('takes poolEntries from the remote, refusing a value too small to hold an index, naming the key', async () => {
    const dir = await mkdtemp(path.join(tmpdir(), 'cf-apt-config-'));
    try {
      const file = path.join(dir, 'cacheforge.config.json');
      const write = (poolEntries: unknown) => writeFile(file, JSON.stringify({ plugins: ['@cacheforge/plugin-apt'], remotes: { debian: { type: 'apt', upstream: 'http://127.0.0.1:9/debian/', poolEntries } } }));
      await write(250_000);
      expect((await loadConfig({ configPath: file, env: {} })).config.remotes.debian!.options).to.include({ poolEntries: 250_000 });
      await write(10);
      const error = await loadConfig({ configPath: file, env: {} }).then(() => undefined, (err: Error & { code?: string }) => err);
      expect(error?.code).to.equal('CF_ERR_CONFIG_INVALID');
      expect(error?.message).to.contain(file);
      expect(error?.message).to.match(/remotes\.debian\.poolEntries: at least 1000/);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});
