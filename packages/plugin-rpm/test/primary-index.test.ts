import { expect } from 'chai';
import { Readable } from 'node:stream';
import { gzipSync } from 'node:zlib';
import { decompressed, parsePrimary } from '../src/primary-index.js';
import { packageElement, primaryXml } from './support/synthetic-repo.js';

/** Fedora 40's Everything primary lists about this many packages. */
const FEDORA_EVERYTHING = 75_000;

describe('plugin-rpm: the primary index is read streaming', function () {
  this.timeout(120_000);

  it(`reads a ${FEDORA_EVERYTHING}-package gzip primary in small chunks, keeping each package's location, checksum and size`, async () => {
    const elements = function* () {
      for (let i = 0; i < FEDORA_EVERYTHING; i += 1) yield packageElement({ href: `Packages/p/p${i}-1.0-1.noarch.rpm`, bytes: Buffer.from(`package ${i}`) }, i);
    };
    const gz = gzipSync(primaryXml(elements(), FEDORA_EVERYTHING));
    // 64 KiB reads, as from storage: elements split across chunks must still be found whole.
    const chunks = function* () {
      for (let at = 0; at < gz.length; at += 65_536) yield gz.subarray(at, at + 65_536);
    };
    const rssBefore = process.memoryUsage().rss;
    const { index, figures } = await parsePrimary(decompressed('repodata/x-primary.xml.gz', Readable.from(chunks())));
    const rssAfter = process.memoryUsage().rss;
    console.log(`      primary: ${figures.packages} packages, ${(gz.length / 1e6).toFixed(1)} MB gzip, ${(figures.bytes / 1e6).toFixed(1)} MB XML, ` +
      `parsed in ${Math.round(figures.millis)} ms, RSS ${(rssBefore / 1e6).toFixed(0)} -> ${(rssAfter / 1e6).toFixed(0)} MB`);
    expect(index.size).to.equal(FEDORA_EVERYTHING);
    const last = index.get(`Packages/p/p${FEDORA_EVERYTHING - 1}-1.0-1.noarch.rpm`);
    expect(last?.size).to.equal(Buffer.byteLength(`package ${FEDORA_EVERYTHING - 1}`));
    expect(last?.digests?.[0]?.algorithm).to.equal('sha256');
  });

  it('refuses a compression it cannot read rather than guess', () => {
    expect(() => decompressed('repodata/x-primary.xml.bz2', Readable.from([]))).to.throw(/only gzip/);
  });
});
