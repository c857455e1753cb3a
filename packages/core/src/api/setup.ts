import type { Context } from 'koa';
import type { MountedRemote } from '../plugin/remote-registry.js';
import type { SetupSnippet } from '../contract/index.js';
import type { CacheForgeConfig } from '../config/config.js';
import { publicBaseFor } from '../net/public-base.js';

/** What the snippets write where the token goes: a placeholder, never a secret. */
export const TOKEN_PLACEHOLDER = '<TOKEN>';

/** The client configuration of one remote for this instance's public URL (as the asking client reaches it). */
export function setupSnippets(remote: MountedRemote, config: CacheForgeConfig, ctx: Context): { base: URL; snippets: SetupSnippet[] } {
  const base = publicBaseFor(ctx.req, remote.config.name, {
    publicUrl: config.server.publicUrl, trustProxy: config.server.trustProxy, encrypted: (ctx.req.socket as { encrypted?: boolean }).encrypted === true,
  });
  const target = { base, ...(config.auth.anonymousRead ? {} : { token: TOKEN_PLACEHOLDER }) };
  const own = remote.plugin.clientSetup?.(remote.definition, target);
  if (own && own.length > 0) return { base, snippets: [...own] };
  const auth = target.token ? ` -H 'Authorization: Bearer ${target.token}'` : '';
  return { base, snippets: [{ client: 'curl', text: `curl -fLO${auth} ${base.href}<path>\n` }] };
}

/** `/-/setup` as plain text: every remote's snippets, for `curl … | less`. */
export function setupText(remotes: readonly MountedRemote[], config: CacheForgeConfig, ctx: Context): string {
  const parts = [`# Cache Forge client setup${config.auth.anonymousRead ? '' : ` (reads need a token: replace ${TOKEN_PLACEHOLDER}; cacheforge tokens create NAME makes one)`}\n`];
  for (const remote of remotes) {
    parts.push(`\n## ${remote.config.name} (${remote.plugin.name})\n`);
    for (const s of setupSnippets(remote, config, ctx).snippets) parts.push(`\n# ${s.client}${s.file ? `: ${s.file}` : ''}\n${s.text.endsWith('\n') ? s.text : `${s.text}\n`}`);
  }
  return parts.join('');
}
