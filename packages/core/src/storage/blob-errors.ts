import { cfError, type CacheForgeError } from '../errors/errors.js';
import { SHA256_HEX } from './storage.js';

/**
 * The coded error of a backend call that failed: `<backend> storage <op> failed: [what: ]detail`,
 * where `detail` is the cause's message unless the backend words it (S3 prefixes its error code).
 */
export function backendFailure(backend: string, op: string, err: unknown, what?: string, detail = (err as Error).message): CacheForgeError {
  return cfError('CF_ERR_STORAGE_BACKEND', `${backend} storage ${op} failed: ${what ? `${what}: ` : ''}${detail}`, {
    op: `storage.${backend}.${op}`, cause: err,
  });
}

/** A committed blob that is not there. */
export function blobNotFound(digest: string, op: string): CacheForgeError {
  return cfError('CF_ERR_STORAGE_NOT_FOUND', `blob ${digest} not in storage`, { op: `storage.${op}` });
}

/**
 * Returns `digest` when it can name a blob. NOTE: the one check between a digest and a storage
 * location, so nothing that is not 64 lowercase hex ever becomes part of a path or key.
 */
export function checkedDigest(digest: string): string {
  if (!SHA256_HEX.test(digest)) throw cfError('CF_ERR_STORAGE_BACKEND', `invalid blob digest ${JSON.stringify(digest)}`, { op: 'storage.path' });
  return digest;
}
