import { expect } from 'chai';
import { isCacheForgeError, type CacheForgeError } from '../../src/errors/errors.js';
import type { ErrorCode } from '../../src/errors/codes.js';

/** Awaits `promise`, expecting it to fail with a Cache Forge error of `code`; returns the error. */
export async function rejectsWith(promise: Promise<unknown>, code: ErrorCode): Promise<CacheForgeError> {
  let caught: unknown;
  try {
    await promise;
  } catch (err) {
    caught = err;
  }
  expect(caught, 'expected a rejection').to.exist;
  expect(isCacheForgeError(caught), `expected ${code}, got ${String(caught)}`).to.equal(true);
  expect((caught as CacheForgeError).code, (caught as Error).message).to.equal(code);
  return caught as CacheForgeError;
}
