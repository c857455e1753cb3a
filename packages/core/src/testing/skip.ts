import { hasProgram } from './processes.js';

/** What a mocha test or hook context (`this`) offers to skip itself. */
export interface Skippable { skip(): void }

/**
 * Skips the current test or hook, by name and reason, when something it needs is missing (a
 * service, a client). Under `CI=true` it fails instead: CI must never pass without running what
 * it claims to.
 */
export function skipMissing(ctx: Skippable, what: string, reason: string): never {
  if (process.env.CI === 'true') throw new Error(`${what} not available (${reason}); under CI=true a missing dependency fails the test`);
  console.log(`      skipped: ${what} not available (${reason})`);
  ctx.skip();
  // NOTE: mocha's skip() throws to end the test; a runner whose skip returns must not go on.
  throw new Error(`skipped: ${what} not available`);
}

/**
 * Skips (see {@link skipMissing}) unless every program is on PATH; `install` names how to get
 * one (`apt-get install skopeo`) in the skip line.
 */
export function requirePrograms(ctx: Skippable, programs: readonly string[], install: (program: string) => string = (p) => `apt-get install ${p}`): void {
  const missing = programs.find((p) => !hasProgram(p));
  if (missing) skipMissing(ctx, missing, `not on PATH; ${install(missing)}`);
}
