import { expect } from 'chai';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { FakeUpstream, request, startCacheForge } from '@cacheforge/core/testing';
import { parseDeb822, parseOneLine, pickMirror, readAptSources } from '../src/apt-sources.js';
import { parsePath } from '../src/paths.js';
import { parseRelease } from '../src/release.js';
import { PoolIndex } from '../src/pool-index.js';

describe('plugin-apt: the machine\'s apt sources pick the default upstream', () => {
  it('reads one-line entries, skipping comments, deb-src and options', () => {
    const found = parseOneLine('# deb http://old.example/debian bookworm main\ndeb-src http://src.example/debian bookworm main\ndeb [arch=amd64 signed-by=/k.gpg] http://a.example/debian bookworm main contrib # trailing\n');
    expect(found).to.deep.equal([{ uri: 'http://a.example/debian', suites: ['bookworm'] }]);
  });

  it('reads deb822 stanzas: Types, URIs, Suites, continuation lines, Enabled: no skipped', () => {
    const found = parseDeb822([
      '# comment', 'Types: deb deb-src', 'URIs: http://off.example/debian', 'Suites: bookworm', 'Components: main', 'Enabled: no', '',
      'Types: deb-src', 'URIs: http://src.example/debian', 'Suites: bookworm', '',
      'Types: deb', 'URIs: http://a.example/debian', '  http://b.example/debian', 'Suites: bookworm bookworm-updates', 'Components: main',
    ].join('\n'));
    expect(found).to.deep.equal([
      { uri: 'http://a.example/debian', suites: ['bookworm', 'bookworm-updates'] },
      { uri: 'http://b.example/debian', suites: ['bookworm', 'bookworm-updates'] },
    ]);
  });

  it('skips security archives, non-http schemes and this instance', () => {
    const sources = [
      { uri: 'http://sec.example/debian-security', suites: ['bookworm-security'] },
      { uri: 'cdrom:[Debian]/', suites: ['bookworm'] },
      { uri: 'http://127.0.0.1:8080/debian', suites: ['bookworm'] },
      { uri: 'http://mirror.example/debian', suites: ['bookworm'] },
    ];
    expect(pickMirror(sources, (u) => u.port === '8080')?.href).to.equal('http://mirror.example/debian/');
  });

  it('a remote with no upstream mirrors the first deb source of the machine (here a private /etc/apt)', async () => {
    const etc = await mkdtemp(path.join(tmpdir(), 'cf-apt-etc-'));
    const upstream = await new FakeUpstream().start();
    upstream.set('/debian/dists/bookworm/InRelease', { body: Buffer.from('Suite: bookworm\n') });
    await mkdir(path.join(etc, 'sources.list.d'));
    await writeFile(path.join(etc, 'sources.list.d', 'a-security.sources'), 'Types: deb\nURIs: http://127.0.0.1:9/debian-security\nSuites: bookworm-security\n');
    await writeFile(path.join(etc, 'sources.list.d', 'debian.sources'), `Types: deb\nURIs: ${upstream.url}debian\nSuites: bookworm\nComponents: main\n`);
    expect((await readAptSources(etc)).map((s) => s.suites[0])).to.deep.equal(['bookworm-security', 'bookworm']);
    const previous = process.env.CF_APT_ETC;
    process.env.CF_APT_ETC = etc;
    try {
      const cf = await startCacheForge({ plugins: ['@cacheforge/plugin-apt'], remotes: { debian: { type: 'apt' } } });
      try {
        const r = await request(`${cf.url}/debian/dists/bookworm/InRelease`);
        expect(r.status).to.equal(200);
        expect(upstream.count('/debian/dists/bookworm/InRelease')).to.equal(1);
      } finally { await cf.cleanup(); }
    } finally {
      if (previous === undefined) delete process.env.CF_APT_ETC; else process.env.CF_APT_ETC = previous;
      await upstream.stop();
      await rm(etc, { recursive: true, force: true });
    }
  });
});

describe('plugin-apt: archive paths, Release and index parsing', () => {
  it('classifies Release files, by-hash, named indexes and pool files', () => {
    expect(parsePath(['dists', 'bookworm', 'InRelease'])).to.deep.equal({ kind: 'release', suite: 'bookworm', file: 'InRelease' });
    expect(parsePath(['dists', 'bookworm', 'main', 'binary-amd64', 'by-hash', 'SHA256', 'A'.repeat(64)])).to.deep.include({ kind: 'by-hash', algorithm: 'sha256', hex: 'a'.repeat(64) });
    expect(parsePath(['dists', 'bookworm', 'main', 'binary-amd64', 'by-hash', 'SHA256', 'abc'])).to.equal(undefined);
    expect(parsePath(['dists', 'bookworm', 'main', 'binary-amd64', 'Packages.xz'])).to.deep.equal({ kind: 'index', suite: 'bookworm', file: 'main/binary-amd64/Packages.xz' });
    expect(parsePath(['pool', 'main', 'h', 'hello', 'hello_2.10-3_amd64.deb'])).to.deep.equal({ kind: 'pool', file: 'pool/main/h/hello/hello_2.10-3_amd64.deb' });
  });

  it('reads the SHA256 and SHA512 tables of a clear-signed InRelease', () => {
    const text = '-----BEGIN PGP SIGNED MESSAGE-----\nHash: SHA512\n\nSuite: s\nMD5Sum:\n 00 1 x\nSHA256:\n AA 12 main/binary-amd64/Packages\nSHA512:\n BB 12 main/binary-amd64/Packages\n- -dash escaped\n-----BEGIN PGP SIGNATURE-----\n\nzz\n-----END PGP SIGNATURE-----\n';
    const release = parseRelease(text);
    expect(release.files.get('main/binary-amd64/Packages')).to.deep.equal({ size: 12, sha256: 'aa', sha512: 'bb' });
    expect(release.byHash.get('aa')).to.equal('main/binary-amd64/Packages');
    expect(release.files.has('x')).to.equal(false);
  });

  it('reads pool entries from Packages and Sources, the newer listing of a path winning', async () => {
    const pool = new PoolIndex();
    await pool.add(Buffer.from('Package: a\nFilename: pool/a.deb\nSize: 3\nSHA256: AB\n\nPackage: b\nFilename: pool/b.deb\nSize: 4\n'), 'main/binary-amd64/Packages');
    expect(pool.get('pool/a.deb')).to.deep.equal({ size: 3, sha256: 'ab' });
    expect(pool.get('pool/b.deb')).to.equal(undefined);
    await pool.add(Buffer.from('Package: s\nDirectory: pool/main/s/s\nChecksums-Sha256:\n cd 5 s_1.dsc\n ef 6 s_1.tar.xz\nFiles:\n 00 5 s_1.dsc\n'), 'main/source/Sources');
    expect(pool.get('pool/main/s/s/s_1.dsc')).to.deep.equal({ size: 5, sha256: 'cd' });
    expect(pool.get('pool/main/s/s/s_1.tar.xz')).to.deep.equal({ size: 6, sha256: 'ef' });
    await pool.add(Buffer.from('Filename: pool/a.deb\nSize: 9\nSHA256: 99\n'), 'main/binary-i386/Packages');
    expect(pool.get('pool/a.deb')).to.deep.equal({ size: 9, sha256: '99' });
  });
});
