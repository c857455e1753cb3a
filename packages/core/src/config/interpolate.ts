/**
 * `${VAR}` interpolation over a parsed config tree, so secrets live in the environment rather than
 * in files. `${VAR:-fallback}` gives a default; `$${` is a literal `${`. A reference to an unset
 * variable without a default is a config error naming the key.
 */
export interface InterpolationProblem { path: (string | number)[]; variable: string }

const PATTERN = /\$(\$)?\{([A-Za-z_][A-Za-z0-9_]*)(?::-([^}]*))?\}/g;

/** Returns a copy of `value` with every string interpolated, plus what could not be resolved. */
export function interpolate(value: unknown, env: NodeJS.ProcessEnv, path: (string | number)[] = [],
  problems: InterpolationProblem[] = []): { value: unknown; problems: InterpolationProblem[]; secrets: Set<string> } {
  const secrets = new Set<string>();
  const walk = (v: unknown, p: (string | number)[]): unknown => {
    if (typeof v === 'string') {
      return v.replace(PATTERN, (whole, escaped: string | undefined, name: string, fallback: string | undefined) => {
        if (escaped) return whole.slice(1);
        const found = env[name];
        if (found !== undefined && found !== '') { secrets.add(p.join('.')); return found; }
        if (fallback !== undefined) return fallback;
        problems.push({ path: p, variable: name });
        return '';
      });
    }
    if (Array.isArray(v)) return v.map((item, i) => walk(item, [...p, i]));
    if (v && typeof v === 'object') {
      return Object.fromEntries(Object.entries(v).map(([k, item]) => [k, walk(item, [...p, k])]));
    }
    return v;
  };
  return { value: walk(value, path), problems, secrets };
}
