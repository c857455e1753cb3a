import type { z } from 'zod';

/** The scalar types a schema accepts somewhere: what a string from the environment may become. */
type Kind = 'string' | 'number' | 'boolean';

interface Def {
  type: string;
  innerType?: z.ZodType;
  in?: z.ZodType;
  shape?: Record<string, z.ZodType>;
  catchall?: z.ZodType;
  valueType?: z.ZodType;
  element?: z.ZodType;
  options?: z.ZodType[];
  left?: z.ZodType;
  right?: z.ZodType;
  values?: unknown[];
  entries?: Record<string, unknown>;
  getter?: () => z.ZodType;
}

const defOf = (type: z.ZodType): Def => (type as unknown as { _zod: { def: Def } })._zod.def;

/** Wrappers whose input is their inner type's input. */
const WRAPPERS = new Set(['default', 'optional', 'nullable', 'prefault', 'catch', 'readonly', 'nonoptional']);

/**
 * The schemas `type` may be, after wrappers, lazies, unions, intersections and (unless
 * `keepPipes`) pipes, which are read by their input side.
 */
function alternatives(type: z.ZodType, keepPipes = false, depth = 0): z.ZodType[] {
  if (depth > 32) return [];
  const def = defOf(type);
  const again = (t: z.ZodType) => alternatives(t, keepPipes, depth + 1);
  if (WRAPPERS.has(def.type) && def.innerType) return again(def.innerType);
  if (def.type === 'pipe' && def.in && !keepPipes) return again(def.in);
  if (def.type === 'lazy' && def.getter) return again(def.getter());
  if (def.type === 'union' && def.options) return def.options.flatMap(again);
  if (def.type === 'intersection' && def.left && def.right) return [...again(def.left), ...again(def.right)];
  return [type];
}

/**
 * The schemas found at `path` below `schema` (more than one through a union); a pipe at the end
 * (a transform: durations, sizes) is returned as itself.
 */
export function schemasAt(schema: z.ZodType, path: readonly (string | number)[]): z.ZodType[] {
  let current = alternatives(schema, path.length === 0);
  for (const [i, key] of path.entries()) {
    const last = i === path.length - 1;
    const next: z.ZodType[] = [];
    for (const type of current) {
      const def = defOf(type);
      let child: z.ZodType | undefined;
      if (def.type === 'object') child = (typeof key === 'string' ? def.shape?.[key] : undefined) ?? def.catchall;
      else if (def.type === 'record') child = def.valueType;
      else if (def.type === 'array') child = def.element;
      if (child) next.push(...alternatives(child, last));
    }
    current = next;
  }
  return current;
}

/** The scalar kinds the schemas accept. */
function kindsOf(types: readonly z.ZodType[]): Set<Kind> {
  const kinds = new Set<Kind>();
  for (const type of types) {
    const def = defOf(type);
    if (def.type === 'string' || def.type === 'template_literal') kinds.add('string');
    else if (def.type === 'number' || def.type === 'int') kinds.add('number');
    else if (def.type === 'boolean') kinds.add('boolean');
    else if (def.type === 'literal' || def.type === 'enum') {
      for (const value of def.values ?? Object.values(def.entries ?? {})) {
        if (typeof value === 'string') kinds.add('string');
        else if (typeof value === 'number') kinds.add('number');
        else if (typeof value === 'boolean') kinds.add('boolean');
      }
    } else if (def.type === 'unknown' || def.type === 'any') kinds.add('string');
  }
  return kinds;
}

/**
 * A string from the environment (a `${VAR}` value, a `CACHEFORGE_*` variable) as the type the
 * schema expects at `path`: a number where it takes a number and no string (`${PORT:-8123}`),
 * a boolean where it takes a boolean and no string. Where a string is accepted (a password of
 * digits, a duration such as `30`) it stays a string; a key the schema does not know stays as
 * it is, for the schema to report.
 */
export function coerceBySchema(raw: string, schema: z.ZodType, path: readonly (string | number)[]): unknown {
  const kinds = kindsOf(schemasAt(schema, path).flatMap((t) => alternatives(t)));
  if (kinds.has('string')) return raw;
  const text = raw.trim();
  if (kinds.has('number') && /^-?\d+(\.\d+)?$/.test(text)) return Number(text);
  if (kinds.has('boolean') && (text === 'true' || text === 'false')) return text === 'true';
  return raw;
}

/**
 * Converts, in place, the strings at `paths` of `tree` (each relative to `schema`) by
 * {@link coerceBySchema}.
 */
export function coerceTree(tree: unknown, schema: z.ZodType, paths: readonly (readonly (string | number)[])[]): void {
  for (const path of paths) {
    if (path.length === 0) continue;
    let node: unknown = tree;
    for (const key of path.slice(0, -1)) node = node && typeof node === 'object' ? (node as Record<string | number, unknown>)[key] : undefined;
    if (!node || typeof node !== 'object') continue;
    const last = path[path.length - 1]!;
    const holder = node as Record<string | number, unknown>;
    const value = holder[last];
    if (typeof value === 'string') holder[last] = coerceBySchema(value, schema, path);
  }
}

/** Whether `type` is `like` (the same schema, or a refinement of it: zod clones keep a pipe's sides). */
export function isSchemaOf(type: z.ZodType, like: z.ZodType): boolean {
  const a = defOf(type) as Def & { out?: z.ZodType };
  const b = defOf(like) as Def & { out?: z.ZodType };
  return type === like || (a.type === 'pipe' && b.type === 'pipe' && a.in === b.in && a.out === b.out);
}
