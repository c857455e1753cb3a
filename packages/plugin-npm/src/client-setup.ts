import type { SetupSnippet, SetupTarget } from '@cacheforge/core';

/** `.npmrc` (npm, pnpm, yarn classic) and `.yarnrc.yml` (yarn berry) pointing at the remote. */
export function npmClientSetup(target: SetupTarget): SetupSnippet[] {
  const { base, token } = target;
  // npm keys credentials by the registry URL without its scheme.
  const authKey = `//${base.host}${base.pathname}`;
  const npmrc = `registry=${base.href}\n${token ? `${authKey}:_authToken=${token}\n` : ''}`;
  const yarnrc = [
    `npmRegistryServer: "${base.href}"`,
    ...(token ? ['npmAlwaysAuth: true', `npmAuthToken: "${token}"`] : []),
    ...(base.protocol === 'http:' ? [`unsafeHttpWhitelist:\n  - "${base.hostname}"`] : []),
  ].join('\n');
  return [
    { client: 'npm, pnpm, yarn classic', file: '.npmrc', text: npmrc },
    { client: 'yarn (berry)', file: '.yarnrc.yml', text: `${yarnrc}\n` },
  ];
}
