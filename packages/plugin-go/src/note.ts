import { createHash, createPublicKey, verify, type KeyObject } from 'node:crypto';

/** sum.golang.org's verifier key, as the go command has it built in. */
export const SUM_GOLANG_ORG_KEY = 'sum.golang.org+033de0ae+Ac4zctda0e5eza+HJyk9SxEdh+s3Ux18htTTAD8OuAn8';

/** A checksum database's key in the form `GOSUMDB` takes: `<name>+<hash>+<base64 key>`. */
export interface VerifierKey {
  readonly name: string;
  readonly hash: number;
  readonly key: KeyObject;
}

/** A signed tree head: its size and root hash, once its signature is checked. */
export interface TreeHead {
  readonly size: number;
  readonly hash: Buffer;
}

const ALG_ED25519 = 1;

export function parseVerifierKey(text: string): VerifierKey {
  // The base64 key itself may hold `+`: only the first two separate parts.
  const m = /^([^+\s]+)\+([0-9a-f]{8})\+([A-Za-z0-9+/=]+)$/.exec(text);
  if (!m) throw new Error('a verifier key is <name>+<8 hex digits>+<base64 key>');
  const [, name, hex, b64] = m as unknown as [string, string, string, string];
  const raw = Buffer.from(b64, 'base64');
  if (raw.length !== 33 || raw[0] !== ALG_ED25519) throw new Error('the key is not an Ed25519 verifier key');
  const hash = keyHash(name, raw);
  if (hash !== parseInt(hex, 16)) throw new Error('the key hash does not match the key');
  const key = createPublicKey({ key: { kty: 'OKP', crv: 'Ed25519', x: raw.subarray(1).toString('base64url') }, format: 'jwk' });
  return { name, hash, key };
}

function keyHash(name: string, raw: Buffer): number {
  return createHash('sha256').update(`${name}\n`).update(raw).digest().readUInt32BE(0);
}

/**
 * Opens a signed note (`<text>\n\n— <name> <base64 sig>\n...`) and checks the key's signature on
 * it; throws unless it is there and good. Returns the note's text.
 */
export function openNote(note: string, key: VerifierKey): string {
  const split = note.lastIndexOf('\n\n');
  if (split < 0) throw new Error('not a signed note');
  const text = note.slice(0, split + 1);
  for (const line of note.slice(split + 2).split('\n')) {
    const m = /^\u2014 (\S+) (\S+)$/.exec(line);
    if (!m || m[1] !== key.name) continue;
    const sig = Buffer.from(m[2]!, 'base64');
    if (sig.length !== 68 || sig.readUInt32BE(0) !== key.hash) continue;
    if (verify(null, Buffer.from(text), key.key, sig.subarray(4))) return text;
    throw new Error(`the signature of ${key.name} on the tree head is invalid`);
  }
  throw new Error(`the tree head carries no signature of ${key.name}`);
}

/** Parses a checked tree note: `go.sum database tree\n<size>\n<base64 hash>\n`. */
export function treeHead(text: string): TreeHead {
  const m = /^go\.sum database tree\n(\d+)\n([A-Za-z0-9+/=]{44})\n/.exec(text);
  if (!m) throw new Error('the signed note is not a go.sum database tree head');
  return { size: Number(m[1]), hash: Buffer.from(m[2]!, 'base64') };
}

/** One checksum database lookup answer: the record, its id and the signed head it was read under. */
export interface LookupAnswer {
  readonly id: number;
  /** The record's bytes (its go.sum lines), as hashed into the tree. */
  readonly record: Buffer;
  readonly lines: readonly string[];
  readonly tree: TreeHead;
}

/** Parses a `/lookup/` answer and checks its tree head's signature. */
export function parseLookup(body: Buffer, key: VerifierKey): LookupAnswer {
  const text = body.toString('utf8');
  const nl = text.indexOf('\n');
  const split = text.indexOf('\n\n', nl);
  if (nl <= 0 || split < 0 || !/^\d+$/.test(text.slice(0, nl))) throw new Error('not a checksum database lookup answer');
  const record = text.slice(nl + 1, split + 1);
  const tree = treeHead(openNote(text.slice(split + 2), key));
  const id = Number(text.slice(0, nl));
  if (id >= tree.size) throw new Error(`record ${id} is outside the signed tree of ${tree.size}`);
  return { id, record: Buffer.from(record), lines: record.split('\n').filter((l) => l !== ''), tree };
}

/** The `h1:` hash a lookup answer gives a module version's zip (`file` = `zip`) or its go.mod. */
export function h1Of(answer: LookupAnswer, module: string, version: string, file: 'zip' | 'mod'): string | undefined {
  const want = file === 'mod' ? `${module} ${version}/go.mod ` : `${module} ${version} `;
  const line = answer.lines.find((l) => l.startsWith(want) && l.slice(want.length).startsWith('h1:'));
  return line?.slice(want.length);
}
