import { expect } from 'chai';

/** A promise's outcome, for asserting on rejections without try/catch in every check. */
export type Outcome<T> = { ok: true; value: T } | { ok: false; error: unknown };

export async function settle<T>(promise: Promise<T>): Promise<Outcome<T>> {
  try {
    return { ok: true, value: await promise };
  } catch (error) {
    return { ok: false, error };
  }
}

/** Asserts the outcome is a rejection with the Cache Forge error `code`. */
export function expectCode(outcome: Outcome<unknown>, code: string): void {
  expect(outcome.ok, `expected a rejection with ${code}`).to.equal(false);
  const actual = (outcome as { error: { code?: string; message?: string } }).error;
  expect(actual?.code, actual?.message).to.equal(code);
}
