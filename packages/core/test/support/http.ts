import { expect } from 'chai';
import type { HashedResponse } from '../../src/testing/http.js';

/** Asserts that every response is a complete 200 carrying exactly `expected` (size and sha256). */
export function expectCompleteBodies(results: readonly HashedResponse[], expected: { size: number; sha256: string }): void {
  for (const r of results) {
    expect(r.status).to.equal(200);
    expect(r.complete).to.equal(true);
    expect(r.size).to.equal(expected.size);
    expect(r.sha256).to.equal(expected.sha256);
  }
}
