import type { ArtifactRequest } from '@cacheforge/core';

/** What a request below a go remote asks for. Module paths stay in their escaped (`!x`) form. */
export type GoPath =
  | { kind: 'list'; module: string }
  | { kind: 'latest'; module: string }
  | { kind: 'version'; module: string; version: string; ext: 'info' | 'mod' | 'zip' }
  | { kind: 'sumdb'; name: string; what: 'supported' | 'latest' | 'lookup' | 'tile'; rest: string };

/** An escaped module path: lowercase only, `!` before each letter that was upper case. */
const ESCAPED_MODULE = /^(?:[a-z0-9.~_!+-]+\/)*[a-z0-9.~_!+-]+$/;
const VERSION = /^v[0-9A-Za-z.+_!~-]+$/;
const TILE = /^\d+\/(?:data|\d+)\/(?:x\d{3}\/)*\d{3}(?:\.p\/\d+)?$/;

export function parsePath(req: ArtifactRequest): GoPath | undefined {
  const path = req.path;
  if (path.startsWith('sumdb/')) return sumdbPath(path.slice('sumdb/'.length));
  const at = path.indexOf('/@');
  if (at <= 0) return undefined;
  const module = path.slice(0, at);
  if (!validModule(module)) return undefined;
  const rest = path.slice(at + 1);
  if (rest === '@latest') return { kind: 'latest', module };
  if (rest === '@v/list') return { kind: 'list', module };
  const m = /^@v\/([^/]+)\.(info|mod|zip)$/.exec(rest);
  if (!m || !VERSION.test(m[1]!)) return undefined;
  return { kind: 'version', module, version: m[1]!, ext: m[2] as 'info' | 'mod' | 'zip' };
}

function validModule(module: string): boolean {
  if (!ESCAPED_MODULE.test(module)) return false;
  // `!` must be followed by the lowercase letter it stands for.
  if (/![^a-z]|!$/.test(module)) return false;
  return module.split('/').every((e) => e !== '.' && e !== '..' && !e.startsWith('.'));
}

function sumdbPath(rest: string): GoPath | undefined {
  const slash = rest.indexOf('/');
  if (slash <= 0) return undefined;
  const name = rest.slice(0, slash);
  const tail = rest.slice(slash + 1);
  if (!/^[a-z0-9.-]+$/i.test(name)) return undefined;
  if (tail === 'supported' || tail === 'latest') return { kind: 'sumdb', name, what: tail, rest: tail };
  if (tail.startsWith('lookup/')) {
    const mod = tail.slice('lookup/'.length);
    const at = mod.lastIndexOf('@');
    if (at <= 0 || !validModule(mod.slice(0, at)) || !VERSION.test(mod.slice(at + 1))) return undefined;
    return { kind: 'sumdb', name, what: 'lookup', rest: tail };
  }
  if (tail.startsWith('tile/') && TILE.test(tail.slice('tile/'.length))) return { kind: 'sumdb', name, what: 'tile', rest: tail };
  return undefined;
}

/** The module path a client means: `!x` stands for `X`. */
export function unescapeModule(escaped: string): string {
  return escaped.replace(/!([a-z])/g, (_, c: string) => c.toUpperCase());
}
