import type { RemoteDefinition, SetupSnippet, SetupTarget } from '@cacheforge/core';

/**
 * `helm repo add` for the remote. The index's chart URLs point back at the remote, so helm sends
 * the repository's credentials with every chart download too (no `--pass-credentials` needed).
 */
export function helmClientSetup(remote: RemoteDefinition, target: SetupTarget): SetupSnippet[] {
  const url = target.base.href.replace(/\/$/, '');
  const auth = target.token ? ` --username any --password ${target.token}` : '';
  return [{ client: 'helm 3, helm 4', text: `helm repo add ${remote.name} ${url}${auth}\nhelm repo update ${remote.name}\n` }];
}
