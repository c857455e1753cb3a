/**
 * `${VAR}` interpolation over a parsed config tree, so secrets live in the environment rather than
 * in files. `${VAR:-fallback}` gives a default (used when VAR is unset or empty); `$${` is a
 * literal `${`. A reference to an unset variable without a default is a config error naming the
 * key, and so is a `${` that is not a reference (a typo must not reach an upstream as text).
 */
export interface InterpolationProblem {
  path: (string | number)[];
  /** The variable that is not set; absent when the reference itself is malformed. */
  variable?: string;
  message: string;
}

/** One environment value put into the tree: kept so error messages can leave it out. */
export interface Substitution { path: (string | number)[]; value: string }

// NOTE: one alternation scanned left to right, so `$${` is consumed before its `${` could be read
// as a reference, and a `${` matching neither branch is caught by the last one.
const PATTERN = /\$\$\{|\$\{([A-Za-z_][A-Za-z0-9_]*)(?::-([^}]*))?\}|\$\{/g;

/** Returns a copy of `value` with every string interpolated, plus what could not be resolved. */
export function interpolate(value: unknown, env: NodeJS.ProcessEnv, path: (string | number)[] = [],
  problems: InterpolationProblem[] = []): {
  value: unknown; problems: InterpolationProblem[]; secrets: Set<string>; substitutions: Substitution[];
  /** The keys whose strings held a reference: converted later by the type the schema expects there (see `coerce.ts`). */
  interpolated: (string | number)[][];
} {
  const substitutions: Substitution[] = [];
  const interpolated: (string | number)[][] = [];
  const walk = (v: unknown, p: (string | number)[]): unknown => {
    if (typeof v === 'string') {
      if (v.includes('${')) interpolated.push(p);
      return v.replace(PATTERN, (whole, name: string | undefined, fallback: string | undefined) => {
        if (whole === '$${') return '${';
        if (name === undefined) {
          problems.push({ path: p, message: 'malformed ${...} reference: expected ${NAME} or ${NAME:-default} (write $${ for a literal ${)' });
          return whole;
        }
        const found = env[name];
        if (found !== undefined && found !== '') {
          substitutions.push({ path: p, value: found });
          return found;
        }
        if (fallback !== undefined) return fallback;
        problems.push({
          path: p, variable: name,
          message: `environment variable ${name} is ${found === '' ? 'empty' : 'not set'} (and no \${${name}:-default} given)`,
        });
        return '';
      });
    }
    if (Array.isArray(v)) return v.map((item, i) => walk(item, [...p, i]));
    if (v && typeof v === 'object') {
      return Object.fromEntries(Object.entries(v).map(([k, item]) => [k, walk(item, [...p, k])]));
    }
    return v;
  };
  const result = walk(value, path);
  // The keys whose values came from the environment, for masking.
  const secrets = new Set(substitutions.map((s) => s.path.join('.')));
  return { value: result, problems, secrets, substitutions, interpolated };
}
