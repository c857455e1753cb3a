import type { z } from 'zod';
import { schemasAt } from './coerce.js';

/** One thing wrong with a config: where (dotted key path) and what was expected. */
export interface ConfigProblem {
  readonly path: string;
  readonly message: string;
}

/** Formats a key path the way a user reads it: `remotes.apache.include[2]`. */
export function formatPath(path: readonly PropertyKey[]): string {
  let out = '';
  for (const key of path) {
    if (typeof key === 'number') out += `[${key}]`;
    else out += out ? `.${String(key)}` : String(key);
  }
  return out || '(root)';
}

/**
 * Turns zod issues into problems with a key path and a sentence a user can act on. With the
 * `schema` that was parsed, an unknown key gets the valid key at its level it is closest to.
 */
export function problemsFromZod(error: z.ZodError, prefix: readonly PropertyKey[] = [], schema?: z.ZodType): ConfigProblem[] {
  const problems: ConfigProblem[] = [];
  for (const issue of error.issues) {
    const path = [...prefix, ...issue.path];
    if (issue.code === 'unrecognized_keys') {
      const valid = schema ? keysAt(schema, issue.path) : [];
      for (const key of issue.keys) {
        const near = closest(key, valid);
        problems.push({ path: formatPath([...path, key]), message: near ? `unknown key (did you mean \`${near}\`?)` : 'unknown key' });
      }
      continue;
    }
    if (issue.code === 'invalid_union' && issue.errors.length > 0) {
      // NOTE: our unions are "string or number" scalars; the first branch's complaint is the clearest.
      const first = issue.errors.flat()[0];
      if (first) { problems.push({ path: formatPath(path), message: plainMessage(first.message) }); continue; }
    }
    let message = plainMessage(issue.message);
    if (issue.code === 'invalid_type' && /received undefined/.test(issue.message)) message = `required (${message.replace(/, received undefined$/, '')})`;
    problems.push({ path: formatPath(path), message });
  }
  return problems;
}

function plainMessage(message: string): string {
  return message.replace(/^Invalid input: /, '');
}

/** The keys an object schema at `path` takes. */
function keysAt(schema: z.ZodType, path: readonly PropertyKey[]): string[] {
  if (path.some((k) => typeof k === 'symbol')) return [];
  const keys = new Set<string>();
  for (const type of schemasAt(schema, path as (string | number)[])) {
    const def = (type as unknown as { _zod: { def: { type: string; shape?: Record<string, unknown> } } })._zod.def;
    if (def.type === 'object' && def.shape) for (const key of Object.keys(def.shape)) keys.add(key);
  }
  return [...keys];
}

/**
 * The valid key a typo most likely meant: within two edits (ignoring case), and fewer than half
 * the key's letters, so `foo` suggests nothing rather than `ttl`.
 */
export function closest(key: string, valid: readonly string[]): string | undefined {
  let best: { key: string; distance: number } | undefined;
  const limit = Math.min(2, Math.floor(key.length / 2));
  for (const candidate of valid) {
    const distance = levenshtein(key.toLowerCase(), candidate.toLowerCase());
    if (distance <= limit && (!best || distance < best.distance)) best = { key: candidate, distance };
  }
  return best?.key;
}

function levenshtein(a: string, b: string): number {
  let previous = Array.from({ length: b.length + 1 }, (_, i) => i);
  for (let i = 1; i <= a.length; i++) {
    const current = [i];
    for (let j = 1; j <= b.length; j++) {
      current[j] = Math.min(previous[j]! + 1, current[j - 1]! + 1, previous[j - 1]! + (a[i - 1] === b[j - 1] ? 0 : 1));
    }
    previous = current;
  }
  return previous[b.length]!;
}

/** The problems of one load, collected so that all of them are reported at once. */
export class ProblemList {
  readonly all: ConfigProblem[];
  private readonly unresolved: ReadonlySet<string>;

  /** `missing`: the keys whose `${VAR}` is not set. */
  constructor(missing: readonly ConfigProblem[]) {
    this.all = [...missing];
    this.unresolved = new Set(missing.map((p) => p.path));
  }

  add(...found: ConfigProblem[]): void {
    this.all.push(...found);
  }

  /**
   * Adds what a schema found. NOTE: a key whose variable is missing holds '' now; what the schema
   * says about that '' (not a URL, too short) is noise beside the real cause, so it is dropped.
   */
  report(found: readonly ConfigProblem[]): void {
    for (const p of found) if (!this.unresolved.has(p.path)) this.all.push(p);
  }
}
