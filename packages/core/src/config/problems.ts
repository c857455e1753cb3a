import type { z } from 'zod';

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

/** Turns zod issues into problems with a key path and a sentence a user can act on. */
export function problemsFromZod(error: z.ZodError, prefix: readonly PropertyKey[] = []): ConfigProblem[] {
  const problems: ConfigProblem[] = [];
  for (const issue of error.issues) {
    const path = [...prefix, ...issue.path];
    if (issue.code === 'unrecognized_keys') {
      for (const key of issue.keys) problems.push({ path: formatPath([...path, key]), message: 'unknown key' });
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
