import type { Context } from 'koa';
import { cfError } from '../errors/errors.js';
import type { FormatPlugin, MountTarget, RemoteDefinition } from '../contract/index.js';
import type { RemoteRegistry } from '../plugin/remote-registry.js';
import type { RemoteDispatcher } from './dispatch.js';

/**
 * The artifact check, run once the mount has picked the remote, so a 401 can carry the format's
 * own challenge for it (`FormatPlugin.bearerAuth`).
 */
export interface MountGate {
  readonly base: (ctx: Context) => string;
  readonly check: (ctx: Context) => Promise<void>;
}

/** One format's mount with the remotes of that format. */
interface Mounted {
  readonly prefix: string;
  readonly plugin: FormatPlugin<Record<string, unknown>>;
  readonly remotes: readonly RemoteDefinition<Record<string, unknown>>[];
}

/**
 * Serves the root prefixes formats claim (`FormatPlugin.mount`): a request under a prefix goes to
 * the remote the format's `route` picks, or gets the format's direct answer. Returns `false` for
 * requests under no prefix. Two formats claiming the same prefix, or a prefix that is not
 * `/…/`, fail the start.
 */
export function pluginMounts(registry: RemoteRegistry, dispatcher: RemoteDispatcher, gate?: MountGate): (ctx: Context) => false | Promise<boolean> {
  const byPlugin = new Map<string, Mounted>();
  for (const remote of registry.all()) {
    const mount = remote.plugin.mount;
    if (!mount) continue;
    const definition = remote.definition;
    const known = byPlugin.get(remote.plugin.name);
    if (known) { (known.remotes as RemoteDefinition<Record<string, unknown>>[]).push(definition); continue; }
    if (!/^\/[^/]+(\/[^/]+)*\/$/.test(mount.prefix) || mount.prefix.startsWith('/-/')) {
      throw cfError('CF_ERR_PLUGIN_CONTRACT', `plugin ${remote.plugin.name}: mount prefix ${JSON.stringify(mount.prefix)} must look like /name/ and not be under /-/`);
    }
    const clash = [...byPlugin.values()].find((m) => m.prefix === mount.prefix);
    if (clash) throw cfError('CF_ERR_PLUGIN_CONTRACT', `plugins ${clash.plugin.name} and ${remote.plugin.name} both mount ${mount.prefix}`);
    byPlugin.set(remote.plugin.name, { prefix: mount.prefix, plugin: remote.plugin, remotes: [definition] });
  }
  const mounts = [...byPlugin.values()];
  if (mounts.length === 0) return () => false;

  return async function serveMount(ctx: Context): Promise<boolean> {
    const path = ctx.path;
    const mounted = mounts.find((m) => path.startsWith(m.prefix) || path === m.prefix.slice(0, -1));
    if (!mounted) return false;
    if (mounted.plugin.errorBody) ctx.state.errorBody = mounted.plugin.errorBody;
    const rawPath = path.slice(mounted.prefix.length);
    const target = mounted.plugin.mount!.route({ method: ctx.method, rawPath, query: new URLSearchParams(ctx.querystring), headers: ctx.headers }, mounted.remotes);
    if (gate) await gateMounted(ctx, gate, mounted, target, rawPath);
    if (target.kind === 'unknown') throw cfError('CF_ERR_REMOTE_UNKNOWN', target.reason, { op: 'mount' });
    if (target.kind === 'answer') {
      ctx.status = target.status;
      for (const [name, value] of Object.entries(target.headers ?? {})) ctx.set(name, value);
      if (target.body !== undefined && ctx.method !== 'HEAD') ctx.body = target.body;
      return true;
    }
    for (const [name, value] of Object.entries(target.headers ?? {})) ctx.set(name, value);
    await dispatcher.to(ctx, target.remote, target.rawPath);
    return true;
  };
}

/** Notes the format's challenge for the routed request, then runs the artifact check. */
function gateMounted(ctx: Context, gate: MountGate, mounted: Mounted, target: MountTarget, rawPath: string): Promise<void> {
  const remote = target.kind === 'remote' ? mounted.remotes.find((r) => r.name === target.remote) : undefined;
  // The path as the client named it: its scopes name the repository that way (`hub/library/x`).
  const bearer = mounted.plugin.bearerAuth?.challenge({ base: gate.base(ctx), remote, rawPath });
  if (bearer) {
    ctx.state.authChallenge = bearer.header;
    ctx.state.authScope = { remote: remote?.name, scope: bearer.scope };
  }
  return gate.check(ctx);
}
