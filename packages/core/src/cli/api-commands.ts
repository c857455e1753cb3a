import { ApiClient, ApiFailure, EXIT } from './api-client.js';
import { readFile } from 'node:fs/promises';
import { load as loadYaml } from 'js-yaml';
import { bytes, table } from './table.js';

/** The flags the API commands read (parsed by main.ts). */
export interface ApiFlags {
  readonly url?: string;
  readonly token?: string;
  readonly json?: boolean;
  readonly yes?: boolean;
  readonly remote?: string[];
  readonly prefix?: string;
  readonly scope?: string[];
  readonly expires?: string;
  /** `remotes put --file`: the remote's config (JSON or YAML). */
  readonly file?: string;
}

/** The first words of every command that talks to a running server. */
export const API_COMMANDS = ['remotes', 'artifacts', 'flush', 'tokens', 'stats', 'setup'] as const;

const V1 = '/-/api/v1';
const enc = (s: string) => encodeURIComponent(s);
const encPath = (p: string) => p.split('/').map(enc).join('/');

/** What every command gets: the client, the flags, and how to print and refuse. */
interface CommandContext {
  readonly client: ApiClient;
  readonly flags: ApiFlags;
  readonly out: (s: string) => void;
  readonly print: (data: unknown, human: () => string) => void;
  readonly usage: (message: string) => number;
}

type Command = (context: CommandContext, rest: readonly string[]) => Promise<number>;

async function remotesLs({ client, print }: CommandContext): Promise<number> {
  const data = await client.call<{ remotes: { name: string; type: string; upstream: string; offline: boolean }[] }>('GET', `${V1}/remotes`);
  print(data, () => table(['NAME', 'TYPE', 'UPSTREAM', 'OFFLINE'], data.remotes.map((r) => [r.name, r.type, r.upstream, r.offline ? 'yes' : 'no'])));
  return EXIT.ok;
}

async function remotesPut({ client, flags, print, usage }: CommandContext, rest: readonly string[]): Promise<number> {
  const [name] = rest;
  if (!name || rest.length > 1 || !flags.file) return usage('remotes put takes NAME --file remote.json|yaml');
  let body: unknown;
  try {
    // YAML is a superset of JSON: one parser reads both.
    body = loadYaml(await readFile(flags.file, 'utf8'));
  } catch (err) {
    return usage(`cannot read ${flags.file}: ${(err as Error).message}`);
  }
  const data = await client.call<{ name: string; type: string; upstream: string; source: string }>('PUT', `${V1}/remotes/${enc(name)}`, body);
  print(data, () => `remote ${data.name} (${data.type} → ${data.upstream}) is served by every replica within 5 s`);
  return EXIT.ok;
}

async function remotesRm({ client, out, usage }: CommandContext, rest: readonly string[]): Promise<number> {
  const [name] = rest;
  if (!name || rest.length > 1) return usage('remotes rm takes NAME');
  await client.call('DELETE', `${V1}/remotes/${enc(name)}`);
  out(`remote ${name} removed`);
  return EXIT.ok;
}

async function artifactsLs({ client, print, usage }: CommandContext, rest: readonly string[]): Promise<number> {
  const [remote, prefix = ''] = rest;
  if (!remote || rest.length > 2) return usage('artifacts ls takes REMOTE [PREFIX]');
  const folder = prefix === '' || prefix.endsWith('/') ? prefix : `${prefix}/`;
  const children: { name: string; kind: string; count: number; size: number; lastAccess: string | null }[] = [];
  let cursor: string | null = null;
  // Bounded: at most 100 pages of 1000.
  for (let page = 0; page < 100; page++) {
    const data: { children: typeof children; nextCursor: string | null } = await client.call('GET', `${V1}/remotes/${enc(remote)}/artifacts?limit=1000&prefix=${enc(folder)}${cursor ? `&cursor=${cursor}` : ''}`);
    children.push(...data.children);
    cursor = data.nextCursor;
    if (!cursor) break;
  }
  print({ remote, prefix: folder, children }, () => table(['NAME', 'COUNT', 'SIZE', 'LAST ACCESS'], children.map((c) => [folder + c.name, c.count, bytes(c.size), c.lastAccess])));
  return EXIT.ok;
}

async function artifactsRm({ client, flags, print, usage }: CommandContext, rest: readonly string[]): Promise<number> {
  const [remote, path] = rest;
  if (!remote || (path === undefined) === (flags.prefix === undefined) || rest.length > 2) return usage('artifacts rm takes REMOTE PATH, or REMOTE --prefix P');
  const data = await client.call<{ artifacts: number; blobs: number; bytesFreed: number }>('DELETE', path !== undefined
    ? `${V1}/remotes/${enc(remote)}/artifacts/${encPath(path)}` : `${V1}/remotes/${enc(remote)}/artifacts?prefix=${enc(flags.prefix!)}`);
  print(data, () => `purged ${data.artifacts} artifact record(s), deleted ${data.blobs} blob(s), freed ${bytes(data.bytesFreed)}`);
  return EXIT.ok;
}

async function flush({ client, flags, print, usage }: CommandContext): Promise<number> {
  if ((flags.remote?.length ?? 0) > 1) return usage('flush takes at most one --remote');
  const remote = flags.remote?.[0];
  if (!flags.yes) return usage(`flush deletes everything cached${remote ? ` in remote ${remote}` : ''}; add --yes to do it`);
  const data = await client.call<{ artifacts: number; blobs: number; bytesFreed: number }>('POST', `${V1}/flush`, remote ? { remote } : {});
  print(data, () => `flushed ${remote ?? 'every remote'}: ${data.artifacts} artifact record(s), ${data.blobs} blob(s), ${bytes(data.bytesFreed)} freed`);
  return EXIT.ok;
}

async function tokensCreate({ client, flags, print, usage }: CommandContext, rest: readonly string[]): Promise<number> {
  const [name] = rest;
  if (!name || rest.length > 1) return usage('tokens create takes NAME [--scope read|write|admin]... [--remote R]... [--expires 30d]');
  const data = await client.call<{ id: string; token: string; scopes: string[]; expiresAt: string | null }>('POST', `${V1}/tokens`, {
    name, scopes: flags.scope?.length ? flags.scope : ['read'], ...(flags.remote?.length ? { remotes: flags.remote } : {}), ...(flags.expires ? { expiresIn: flags.expires } : {}),
  });
  print(data, () => `${data.token}\n\ntoken ${name} (id ${data.id}, ${data.scopes.join(', ')}${data.expiresAt ? `, expires ${data.expiresAt}` : ''}): shown once, store it now`);
  return EXIT.ok;
}

async function tokensLs({ client, print }: CommandContext): Promise<number> {
  const data = await client.call<{ tokens: { id: string; name: string; scopes: string[]; remotes: string[] | null; state: string; expiresAt: string | null; lastUsedAt: string | null }[] }>('GET', `${V1}/tokens`);
  print(data, () => table(['ID', 'NAME', 'SCOPES', 'REMOTES', 'STATE', 'EXPIRES', 'LAST USED'], data.tokens.map((t) => [t.id, t.name, t.scopes.join(','), t.remotes?.join(',') ?? 'all', t.state, t.expiresAt, t.lastUsedAt])));
  return EXIT.ok;
}

async function tokensRevoke({ client, print, usage }: CommandContext, rest: readonly string[]): Promise<number> {
  const [id] = rest;
  if (!id || rest.length > 1) return usage('tokens revoke takes ID (from tokens ls)');
  await client.call('DELETE', `${V1}/tokens/${enc(id)}`);
  print({ revoked: id }, () => `revoked ${id}`);
  return EXIT.ok;
}

async function stats({ client, flags, print, usage }: CommandContext): Promise<number> {
  if ((flags.remote?.length ?? 0) > 1) return usage('stats takes at most one --remote');
  const remote = flags.remote?.[0];
  const data = await client.call<{ remotes: { remote: string; requests: Record<string, number>; hitRatio: number | null; bytesServed: number; bytesFetched: number; bytesSaved: number }[] }>('GET', `${V1}/stats${remote ? `?remote=${enc(remote)}` : ''}`);
  print(data, () => table(['REMOTE', 'HIT', 'MISS', 'REVALIDATED', 'STALE', 'BYPASS', 'HIT RATIO', 'SERVED', 'FETCHED', 'SAVED'], data.remotes.map((r) => [
    r.remote, r.requests.HIT, r.requests.MISS, r.requests.REVALIDATED, r.requests.STALE, r.requests.BYPASS,
    r.hitRatio === null ? null : `${(r.hitRatio * 100).toFixed(1)}%`, bytes(r.bytesServed), bytes(r.bytesFetched), bytes(r.bytesSaved),
  ])));
  return EXIT.ok;
}

async function setupAll({ client, out }: CommandContext): Promise<number> {
  out((await client.text('/-/setup')).trimEnd());
  return EXIT.ok;
}

async function setupRemote({ client, print }: CommandContext, remote: string): Promise<number> {
  const data = await client.call<{ snippets: { client: string; file?: string; text: string }[] }>('GET', `${V1}/remotes/${enc(remote)}/setup`);
  print(data, () => data.snippets.map((x) => `# ${x.client}${x.file ? `: ${x.file}` : ''}\n${x.text.trimEnd()}`).join('\n\n'));
  return EXIT.ok;
}

/** The commands by their first words (`flush`, `stats` and `setup` take one). */
const COMMANDS: Record<string, Command> = {
  'remotes ls': remotesLs,
  'remotes put': remotesPut,
  'remotes rm': remotesRm,
  'artifacts ls': artifactsLs,
  'artifacts rm': artifactsRm,
  'flush': flush,
  'tokens create': tokensCreate,
  'tokens ls': tokensLs,
  'tokens revoke': tokensRevoke,
  'stats': stats,
  'setup': setupAll,
};

/**
 * Runs one API command against the server at `--url` / `CACHEFORGE_URL` (default
 * http://127.0.0.1:8080) with `--token` / `CACHEFORGE_TOKEN`. Prints a table, or with `--json` the
 * API's own answer; returns an exit code of {@link EXIT}.
 */
export async function runApiCommand(words: readonly string[], flags: ApiFlags, env: NodeJS.ProcessEnv = process.env,
  out: (s: string) => void = (s) => process.stdout.write(`${s}\n`), err: (s: string) => void = (s) => process.stderr.write(`${s}\n`)): Promise<number> {
  const client = new ApiClient(flags.url ?? (env.CACHEFORGE_URL || 'http://127.0.0.1:8080'), flags.token ?? (env.CACHEFORGE_TOKEN || undefined));
  const usage = (message: string) => { err(`cacheforge: ${message}`); return EXIT.usage; };
  const print = (data: unknown, human: () => string) => out(flags.json ? JSON.stringify(data, null, 2) : human());
  const context: CommandContext = { client, flags, out, print, usage };
  const [command, sub, ...rest] = words;
  try {
    const key = `${command} ${sub ?? ''}`.trim();
    const run = Object.hasOwn(COMMANDS, key) ? COMMANDS[key] : undefined;
    if (run) return await run(context, rest);
    if (command === 'setup' && sub !== undefined && rest.length === 0) return await setupRemote(context, sub);
    return usage(`unknown command "${words.join(' ')}"`);
  } catch (e) {
    if (e instanceof ApiFailure) { err(`cacheforge: ${e.message}`); return e.exitCode; }
    throw e;
  }
}
