import type { SetupSnippet, SetupTarget } from '@cacheforge/core';

/**
 * `/etc/apk/repositories` lines for the remote, and the `sed` that repoints an image's own file
 * at it keeping the image's branch. apk (libfetch) takes credentials in the URL, sent as Basic.
 */
export function alpineClientSetup(target: SetupTarget): SetupSnippet[] {
  const base = target.token ? target.base.href.replace('//', `//any:${target.token}@`) : target.base.href;
  return [
    {
      client: 'apk', file: '/etc/apk/repositories',
      text: `# the branch of the image (v3.20, edge); one line per repository\n${base}latest-stable/main\n${base}latest-stable/community\n`,
    },
    { client: 'apk (Dockerfile, keeping the image\'s branch)', text: `RUN sed -i "s|^.*/alpine/|${base}|" /etc/apk/repositories\n` },
  ];
}
