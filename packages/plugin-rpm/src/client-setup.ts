import type { RemoteDefinition, SetupSnippet, SetupTarget } from '@cacheforge/core';

/** Written where the repository's folder goes: one remote fronts a whole tree of repositories. */
export const FOLDER_PLACEHOLDER = '<folder>';

/** The repositories of well-known trees, by the end of the upstream's path: [id, folder]. */
const LAYOUTS: ReadonlyArray<{ match: RegExp; repos: ReadonlyArray<readonly [string, string]> }> = [
  { match: /\/fedora\/linux\/$/, repos: [['fedora', 'releases/$releasever/Everything/$basearch/os/'], ['updates', 'updates/$releasever/Everything/$basearch/']] },
  { match: /\/epel\/$/, repos: [['epel', '$releasever/Everything/$basearch/']] },
  { match: /\/(almalinux|rocky)\/$/, repos: [['baseos', '$releasever/BaseOS/$basearch/os/'], ['appstream', '$releasever/AppStream/$basearch/os/']] },
];

/**
 * A `.repo` file with a `baseurl=` on the remote for each repository of its tree (a placeholder
 * folder when the tree is not a known one), gpg checks kept on: the cache serves the same
 * signed packages, so the stock `gpgkey=` still applies. dnf sends `username`/`password` as Basic.
 */
export function rpmClientSetup(remote: RemoteDefinition<object>, target: SetupTarget): SetupSnippet[] {
  const layout = LAYOUTS.find((l) => l.match.test(remote.upstream.pathname));
  const repos = layout?.repos ?? [[remote.name, `${FOLDER_PLACEHOLDER}/`] as const];
  const auth = target.token ? `username=any\npassword=${target.token}\n` : '';
  const text = repos.map(([id, folder]) => `[${id}]\nname=${id} (Cache Forge ${remote.name})\nbaseurl=${target.base.href}${folder}\n`
    + `gpgcheck=1\n# gpgkey=: keep the stock file's key\n${auth}`).join('\n');
  const note = layout ? '' : `# ${FOLDER_PLACEHOLDER}: the repository's folder below the mirror (the one holding repodata/), e.g. releases/$releasever/Everything/$basearch/os\n`;
  return [{ client: 'dnf, yum', file: `/etc/yum.repos.d/cacheforge-${remote.name}.repo`, text: `${note}${text}` }];
}
