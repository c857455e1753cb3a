import type { SetupSnippet, SetupTarget } from '@cacheforge/core';

/** `pip.conf`, `uv.toml` and poetry's commands pointing at the remote's simple index. */
export function pypiClientSetup(target: SetupTarget): SetupSnippet[] {
  const index = new URL('simple/', target.base);
  // pip and uv take credentials in the URL; any user name, the token as password.
  const withToken = new URL(index.href);
  if (target.token) { withToken.username = 'cacheforge'; withToken.password = 'TOKEN'; }
  const url = target.token ? withToken.href.replace(':TOKEN@', `:${target.token}@`) : index.href;
  const plainHttp = index.protocol === 'http:';
  return [
    { client: 'pip', file: 'pip.conf', text: `[global]\nindex-url = ${url}\n${plainHttp ? `trusted-host = ${index.hostname}\n` : ''}` },
    { client: 'uv', file: 'uv.toml', text: `[[index]]\nname = "cacheforge"\nurl = "${url}"\ndefault = true\n` },
    {
      client: 'poetry',
      text: `poetry source add --priority=primary cacheforge ${index.href}\n${target.token ? `poetry config http-basic.cacheforge cacheforge ${target.token}\n` : ''}`,
    },
  ];
}
