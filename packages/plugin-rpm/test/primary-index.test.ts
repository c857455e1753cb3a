import { expect } from 'chai';
import { spawn } from 'node:child_process';
import { Readable } from 'node:stream';
import { hasProgram, skipMissing } from '@cacheforge/core/testing';
import { gzipSync } from 'node:zlib';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { decompressed, parsePrimary } from '../src/primary-index.js';
import { packageElement, primaryXml } from './support/synthetic-repo.js';

/** Compresses with Debian's own tool, so the decoder reads what real repositories publish. */
function compress(program: string, input: Buffer): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const child = spawn(program, ['-c', '-q'], { stdio: ['pipe', 'pipe', 'inherit'] });
    const out: Buffer[] = [];
    child.stdout.on('data', (c: Buffer) => out.push(c));
    child.on('error', reject);
    child.on('close', (code) => (code === 0 ? resolve(Buffer.concat(out)) : reject(new Error(`${program} exited ${code}`))));
    child.stdin.end(input);
  });
}

/** A full collection (mocha runs without --expose-gc). */
function collect(): void {
  setFlagsFromString('--expose-gc');
  const gc = runInNewContext('gc') as () => void;
  gc();
  gc();
}

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
    collect();
    const heapBefore = process.memoryUsage().heapUsed;
    const { index, figures } = await parsePrimary(await decompressed('repodata/x-primary.xml.gz', Readable.from(chunks())));
    collect();
    const held = process.memoryUsage().heapUsed - heapBefore;
    console.log(`      primary: ${figures.packages} packages, ${(gz.length / 1e6).toFixed(1)} MB gzip, ${(figures.bytes / 1e6).toFixed(1)} MB XML, ` +
      `parsed in ${Math.round(figures.millis)} ms, heap held after gc ${(held / 1e6).toFixed(1)} MB (${index.bytes} bytes by the list's count)`);
    // Bounded by the packages, not by the text: each href is a string of its own, no slice of the
    // decoded XML (which would keep all ${(figures.bytes / 1e6).toFixed(0)} MB of it alive).
    expect(held, 'heap held by the parsed list').to.be.below(24 * 1024 * 1024);
    expect(index.bytes).to.be.below(16 * 1024 * 1024);
    expect(index.size).to.equal(FEDORA_EVERYTHING);
    const last = index.get(`Packages/p/p${FEDORA_EVERYTHING - 1}-1.0-1.noarch.rpm`);
    expect(last?.size).to.equal(Buffer.byteLength(`package ${FEDORA_EVERYTHING - 1}`));
    expect(last?.digests?.[0]?.algorithm).to.equal('sha256');
    expect(last?.digests?.[0]?.hex).to.match(/^[0-9a-f]{64}$/);
  });

  for (const [ext, program] of [['zst', 'zstd'], ['xz', 'xz']] as const) {
    it(`reads a primary compressed by Debian's ${program} (.${ext}), as Fedora and EPEL publish it`, async function () {
      if (!hasProgram(program)) skipMissing(this, program, `apt-get install ${program}`);
      const xml = primaryXml(Array.from({ length: 500 }, (_, i) => packageElement({ href: `Packages/p/p${i}.rpm`, bytes: Buffer.from(`p${i}`) }, i)), 500);
      const packed = await compress(program, xml);
      const { index } = await parsePrimary(await decompressed(`repodata/x-primary.xml.${ext}`, Readable.from([packed.subarray(0, 100), packed.subarray(100)])));
      expect(index.size).to.equal(500);
      expect(index.get('Packages/p/p499.rpm')?.size).to.equal(4);
    });
  }

  it('refuses a compression it cannot read rather than guess', async () => {
    let error: Error | undefined;
    await decompressed('repodata/x-primary.xml.bz2', Readable.from([])).catch((err: Error) => { error = err; });
    expect(error?.message).to.match(/not bz2/);
  });
});
