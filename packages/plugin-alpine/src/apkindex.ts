import { gunzipSync } from 'node:zlib';
import { cfError } from '@cacheforge/core';
import { tarFiles } from './tar-entries.js';

/** What an `APKINDEX` record promises about one `.apk`. */
export interface IndexRecord {
  /** `C:`: `Q1` + base64 SHA1 of the package's control gzip member. */
  readonly checksum?: string;
  /** `S:`: the `.apk`'s size in bytes. */
  readonly size?: number;
}

/** Largest index, once decompressed (edge/community's is a few MiB). */
const MAX_INFLATED = 256 * 1024 * 1024;

/**
 * The packages an `APKINDEX.tar.gz` lists, by file name (`<P>-<V>.apk`). The file is a signature
 * gzip member (signed indexes) then a gzip tar of `DESCRIPTION` and `APKINDEX`; gunzip reads the
 * members as one stream, and the cut signature tar runs straight into the index tar.
 */
export function parseApkIndex(body: Buffer, key: string): Map<string, IndexRecord> {
  let files;
  try {
    files = tarFiles(gunzipSync(body, { maxOutputLength: MAX_INFLATED }));
  } catch (err) {
    throw cfError('CF_ERR_UPSTREAM_INVALID', `${key} is not an apk index (gzip tar): ${(err as Error).message}`);
  }
  const index = files.find((f) => f.name === 'APKINDEX');
  if (!index) throw cfError('CF_ERR_UPSTREAM_INVALID', `${key} holds no APKINDEX file`);
  return parseRecords(index.data.toString('utf8'));
}

/** Blank-line separated records of `X:value` lines. */
export function parseRecords(text: string): Map<string, IndexRecord> {
  const records = new Map<string, IndexRecord>();
  for (const block of text.split(/\n\s*\n/)) {
    const fields = new Map<string, string>();
    for (const line of block.split('\n')) {
      const colon = line.indexOf(':');
      if (colon === 1) fields.set(line[0]!, line.slice(2).trim());
    }
    const name = fields.get('P');
    const version = fields.get('V');
    if (!name || !version) continue;
    const size = fields.has('S') ? Number(fields.get('S')) : undefined;
    records.set(`${name}-${version}.apk`, {
      checksum: fields.get('C') || undefined,
      size: size !== undefined && Number.isSafeInteger(size) && size >= 0 ? size : undefined,
    });
  }
  return records;
}
