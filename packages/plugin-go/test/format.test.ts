import { expect } from 'chai';
import { createHash, generateKeyPairSync, sign } from 'node:crypto';
import type { ArtifactRequest, FinishedBody, Logger } from '@cacheforge/core';
import { hash1, ModVerifier, ZipVerifier } from '../src/dirhash.js';
import { h1Of, parseLookup, parseVerifierKey, SUM_GOLANG_ORG_KEY } from '../src/note.js';
import { parsePath, unescapeModule } from '../src/paths.js';
import { ModulePatterns } from '../src/patterns.js';
import { TreeTimeline } from '../src/timeline.js';
import { checkConsistency, proveInclusion, tilePath } from '../src/tlog.js';

const req = (path: string) => ({ path }) as ArtifactRequest;
const sha = (...parts: Buffer[]) => { const h = createHash('sha256'); for (const p of parts) h.update(p); return h.digest(); };
const leaf = (r: Buffer) => sha(Buffer.of(0), r);
const node = (l: Buffer, r: Buffer) => sha(Buffer.of(1), l, r);

/** RFC 6962's tree hash, straight from its definition. */
function mth(leaves: Buffer[]): Buffer {
  if (leaves.length === 0) return sha();
  if (leaves.length === 1) return leaves[0]!;
  let k = 1;
  while (k * 2 < leaves.length) k *= 2;
  return node(mth(leaves.slice(0, k)), mth(leaves.slice(k)));
}

/** A tree of `records` as the database keeps it: its head and its tiles (level-L tiles hold the complete subtrees of 2^(8L) leaves). */
function tree(records: Buffer[], leaves = records.map(leaf)) {
  const tiles = new Map<string, Buffer>();
  // Each level's hashes are the level below's, 256 at a time, hashed up.
  let hashes: Buffer[] = leaves;
  for (let level = 0; hashes.length > 0; level++) {
    for (let t = 0; t * 256 < hashes.length; t++) {
      const part = hashes.slice(t * 256, (t + 1) * 256);
      tiles.set(tilePath(level, t, part.length), Buffer.concat(part));
    }
    hashes = Array.from({ length: Math.floor(hashes.length / 256) }, (_, i) => mth(hashes.slice(i * 256, (i + 1) * 256)));
  }
  const read = async (p: string) => { const t = tiles.get(p); if (!t) throw new Error(`no ${p}`); return t; };
  return { head: { size: leaves.length, hash: mth(leaves) }, tiles, read };
}

const recordsOf = (n: number, altered = -1) => Array.from({ length: n }, (_, i) => Buffer.from(
  `example.com/m${i} v1.0.0 h1:${sha(Buffer.from(`z${i}${i === altered ? 'x' : ''}`)).toString('base64')}\nexample.com/m${i} v1.0.0/go.mod h1:${sha(Buffer.from(`m${i}`)).toString('base64')}\n`));

/** A signed checksum database of `n` records with its tiles, made with a fresh Ed25519 key. */
function database(n: number) {
  const { publicKey, privateKey } = generateKeyPairSync('ed25519');
  const raw = Buffer.concat([Buffer.of(1), Buffer.from(publicKey.export({ format: 'jwk' }).x!, 'base64url')]);
  const name = 'sum.test';
  const hash = sha(Buffer.from(`${name}\n`), raw).readUInt32BE(0);
  const vkey = `${name}+${hash.toString(16).padStart(8, '0')}+${raw.toString('base64')}`;
  const records = recordsOf(n);
  const { head, tiles } = tree(records);
  const text = `go.sum database tree\n${n}\n${head.hash.toString('base64')}\n`;
  const sig = Buffer.concat([Buffer.alloc(4), sign(null, Buffer.from(text), privateKey)]);
  sig.writeUInt32BE(hash, 0);
  const note = `${text}\n\u2014 ${name} ${sig.toString('base64')}\n`;
  const lookup = (id: number, record = records[id]!) => Buffer.from(`${id}\n${record.toString()}\n${note}`);
  return { vkey, records, tiles, lookup };
}

describe('plugin-go: the GOPROXY and checksum database formats', () => {
  it('parses module paths in their escaped form, and refuses what go never asks', () => {
    expect(parsePath(req('github.com/!burnt!sushi/toml/@v/v1.2.0.zip'))).to.deep.equal({ kind: 'version', module: 'github.com/!burnt!sushi/toml', version: 'v1.2.0', ext: 'zip' });
    expect(parsePath(req('github.com/pkg/errors/@v/list'))).to.deep.equal({ kind: 'list', module: 'github.com/pkg/errors' });
    expect(parsePath(req('github.com/pkg/errors/@latest'))).to.deep.equal({ kind: 'latest', module: 'github.com/pkg/errors' });
    expect(unescapeModule('github.com/!burnt!sushi/toml')).to.equal('github.com/BurntSushi/toml');
    for (const bad of ['github.com/BurntSushi/toml/@v/list', 'github.com/!1/@v/list', 'x/@v/v1.zip.exe', '@v/list', 'a/.git/@v/list']) expect(parsePath(req(bad)), bad).to.equal(undefined);
    expect(parsePath(req('sumdb/sum.golang.org/tile/8/1/x002/123.p/7'))).to.include({ kind: 'sumdb', what: 'tile' });
    expect(parsePath(req('sumdb/sum.golang.org/lookup/github.com/pkg/errors@v0.9.1'))).to.include({ what: 'lookup' });
    expect(parsePath(req('sumdb/sum.golang.org/tile/8/1/12'))).to.equal(undefined);
  });

  it('matches GONOSUMDB-style patterns on leading path elements', () => {
    const p = new ModulePatterns(['*.corp.example', 'example.com/private']);
    expect(p.matches('git.corp.example/a/b')).to.equal(true);
    expect(p.matches('example.com/private/x')).to.equal(true);
    expect(p.matches('example.com/privateer')).to.equal(false);
    expect(p.matches('corp.example/a')).to.equal(false);
  });

  it('reads verifier keys as GOSUMDB takes them (sum.golang.org\'s has + in its base64)', () => {
    expect(parseVerifierKey(SUM_GOLANG_ORG_KEY).name).to.equal('sum.golang.org');
    expect(() => parseVerifierKey('sum.golang.org+033de0af+Ac4zctda0e5eza+HJyk9SxEdh+s3Ux18htTTAD8OuAn8')).to.throw(/hash/);
  });

  it('writes tile paths in groups of three digits', () => {
    expect(tilePath(0, 5, 256)).to.equal('tile/8/0/005');
    expect(tilePath(1, 1234067, 3)).to.equal('tile/8/1/x001/x234/067.p/3');
  });

  it('checks a lookup answer\'s signature and proves its record in the tree through the tiles', async function () {
    this.timeout(120_000); // a tree of 70,000 records, hashed here in full
    const db = database(70_000);
    const read = async (p: string) => { const t = db.tiles.get(p); if (!t) throw new Error(`no ${p}`); return t; };
    for (const id of [0, 255, 256, 65_535, 65_536, 69_999]) {
      const answer = parseLookup(db.lookup(id), parseVerifierKey(db.vkey));
      expect(h1Of(answer, `example.com/m${id}`, 'v1.0.0', 'mod')).to.match(/^h1:/);
      await proveInclusion(answer, read);
    }
    // A record the tree does not hold, under a good signature: refused.
    const forged = parseLookup(db.lookup(7, db.records[8]), parseVerifierKey(db.vkey));
    let refused: unknown;
    await proveInclusion(forged, read).catch((e: unknown) => { refused = e; });
    expect(String(refused)).to.match(/not in the signed tree/);
    // Another key's signature: refused before any tile is read.
    expect(() => parseLookup(db.lookup(1), parseVerifierKey(database(1).vkey))).to.throw(/signature/);
  });

  it('proves an older tree a prefix of a newer one through the newer one\'s tiles, and finds a fork', async function () {
    this.timeout(120_000); // trees of 65,537 records, hashed here in full
    const records = recordsOf(65_537);
    const forked = recordsOf(65_537, 300);
    const leaves = records.map(leaf);
    const forkedLeaves = forked.map(leaf);
    const trees = new Map<string, ReturnType<typeof tree>>();
    /** The tree of the first `n` records (of the forked list with `fork`). */
    const at = (n: number, fork = false) => {
      const key = `${n}${fork ? 'f' : ''}`;
      let t = trees.get(key);
      if (!t) { t = fork ? tree(forked.slice(0, n), forkedLeaves.slice(0, n)) : tree(records.slice(0, n), leaves.slice(0, n)); trees.set(key, t); }
      return t;
    };
    const headAt = (n: number) => ({ size: n, hash: mth(leaves.slice(0, n)) });
    for (const [n, t] of [[1, 2], [3, 7], [255, 256], [256, 257], [300, 65_537], [65_536, 65_537], [1000, 1000], [0, 5]] as const) {
      expect(await checkConsistency(headAt(n), at(t).head, at(t).read), `${n} in ${t}`).to.equal('prefix');
    }
    // A tree whose record 300 differs: a prefix up to 300 records, a fork from 301 on, same size or larger.
    for (const t of [301, 1000]) {
      const fork = at(t, true);
      expect(await checkConsistency(headAt(300), fork.head, fork.read), `300 in fork ${t}`).to.equal('prefix');
      expect(await checkConsistency(headAt(301), fork.head, fork.read), `301 in fork ${t}`).to.equal('fork');
    }
    expect(await checkConsistency(headAt(1000), at(1000, true).head, at(1000).read)).to.equal('fork');
    // Tiles of another tree prove nothing either way.
    let refused: unknown;
    await checkConsistency(headAt(300), at(1000, true).head, at(1000).read).catch((e: unknown) => { refused = e; });
    expect(String(refused)).to.match(/tiles do not give the signed root/);
    // A stored tile that is not the tree's own is asked of the database once more.
    const good = at(1000);
    const asked: boolean[] = [];
    const stale = async (p: string, fresh: boolean) => { asked.push(fresh); return fresh ? good.read(p) : at(1000, true).read(p); };
    expect(await checkConsistency(headAt(700), good.head, stale)).to.equal('prefix');
    expect(asked).to.include(true);
  });

  it('keeps the timeline of tree heads: newer ones proved consistent, forks and rollbacks of latest refused', async () => {
    const lines: Record<string, unknown>[] = [];
    const log = { error: (o: Record<string, unknown>) => lines.push(o) } as unknown as Logger;
    const timeline = new TreeTimeline('sum.test', log);
    const records = recordsOf(600);
    const read = (t: ReturnType<typeof tree>) => (p: string) => t.read(p);
    const at = (n: number, from = records) => tree(from.slice(0, n));
    await timeline.accept(at(10).head, 'latest', read(at(10)));
    await timeline.accept(at(300).head, 'lookup', read(at(300)));
    expect(timeline.head?.size).to.equal(300);
    // An older lookup tree on the timeline is fine; its tiles are the newest tree's.
    await timeline.accept(at(20).head, 'lookup', read(at(300)));
    await timeline.accept(at(200).head, 'latest', read(at(300)));
    const refusals = async (head: { size: number; hash: Buffer }, source: 'latest' | 'lookup', tiles: ReturnType<typeof tree>) => {
      let refused: unknown;
      await timeline.accept(head, source, read(tiles)).catch((e: unknown) => { refused = e; });
      return refused as { code?: string; message?: string } | undefined;
    };
    const forked = recordsOf(600, 250);
    for (const n of [300, 301, 600]) {
      const fork = at(n, forked);
      const err = await refusals(fork.head, 'lookup', fork);
      expect(err?.code, `fork of ${n}`).to.equal('CF_ERR_UPSTREAM_DIGEST_MISMATCH');
      expect(err?.message).to.match(/is not a prefix of/);
    }
    const back = await refusals(at(100).head, 'latest', at(300));
    expect(back?.message).to.match(/went back/);
    expect(lines).to.have.length(4);
    expect(timeline.head?.size).to.equal(300);
    await timeline.accept(at(600).head, 'latest', read(at(600)));
    expect(timeline.head?.size).to.equal(600);
  });

  it('hashes a .mod and a zip as go\'s dirhash does', async () => {
    const mod = Buffer.from('module example.com/x\n');
    const expected = hash1(new Map([['go.mod', createHash('sha256').update(mod).digest('hex')]]));
    const v = new ModVerifier(expected);
    v.update(mod);
    v.finish();
    const bad = new ModVerifier(expected);
    bad.update(Buffer.from('module example.com/y\n'));
    expect(() => bad.finish()).to.throw(/go\.mod hash/);
    // A stored (uncompressed) one-file zip, written by hand.
    const name = Buffer.from('example.com/x@v1.0.0/go.mod');
    const crc = 0; // not checked by the hash
    const local = Buffer.alloc(30); local.writeUInt32LE(0x04034b50, 0); local.writeUInt32LE(crc, 14); local.writeUInt32LE(mod.length, 18); local.writeUInt32LE(mod.length, 22); local.writeUInt16LE(name.length, 26);
    const central = Buffer.alloc(46); central.writeUInt32LE(0x02014b50, 0); central.writeUInt32LE(mod.length, 20); central.writeUInt32LE(mod.length, 24); central.writeUInt16LE(name.length, 28); central.writeUInt32LE(0, 42);
    const dirAt = 30 + name.length + mod.length;
    const eocd = Buffer.alloc(22); eocd.writeUInt32LE(0x06054b50, 0); eocd.writeUInt16LE(1, 8); eocd.writeUInt16LE(1, 10); eocd.writeUInt32LE(46 + name.length, 12); eocd.writeUInt32LE(dirAt, 16);
    const zip = Buffer.concat([local, name, mod, central, name, eocd]);
    const body: FinishedBody = { size: zip.length, sha256: '', read: async (p, n) => zip.subarray(p, p + n) };
    const h1 = hash1(new Map([[name.toString(), createHash('sha256').update(mod).digest('hex')]]));
    await new ZipVerifier(h1).finish(body);
    let refused: unknown;
    await new ZipVerifier(expected).finish(body).catch((e: unknown) => { refused = e; });
    expect(String(refused)).to.match(/zip hash/);
  });
});
