import type { RemoteDefinition, SetupSnippet, SetupTarget } from '@cacheforge/core';

/** What the apt snippets need of a remote: the suites and components it is to be used for. */
export interface AptSetupOptions {
  readonly suites?: readonly string[];
  readonly components?: readonly string[];
}

/** Written where the remote names no `suites`: the archive's own suite names are not known here. */
const SUITE_PLACEHOLDER = '<suite>';

/**
 * `sources.list` (one-line) and deb822 entries pointing apt at the remote, `auth.conf` when reads
 * need a token, and proxy mode (`Acquire::http::Proxy` for the upstream's host only, the sources
 * keeping the archive's own URL).
 */
export function aptClientSetup(remote: RemoteDefinition<AptSetupOptions>, target: SetupTarget): SetupSnippet[] {
  const suites = remote.options.suites?.length ? remote.options.suites : [SUITE_PLACEHOLDER];
  const components = (remote.options.components?.length ? remote.options.components : ['main']).join(' ');
  const base = target.base.href;
  const snippets: SetupSnippet[] = [
    { client: 'apt (one-line)', file: `/etc/apt/sources.list.d/cacheforge-${remote.name}.list`, text: suites.map((s) => `deb ${base} ${s} ${components}\n`).join('') },
    {
      client: 'apt (deb822)', file: `/etc/apt/sources.list.d/cacheforge-${remote.name}.sources`,
      text: `Types: deb\nURIs: ${base}\nSuites: ${suites.join(' ')}\nComponents: ${components}\n# Signed-By: keep the archive's keyring: InRelease is served byte for byte\n`,
    },
  ];
  if (target.token) {
    snippets.push({ client: 'apt (credentials)', file: '/etc/apt/auth.conf.d/cacheforge.conf', text: `machine ${authMachine(target.base)} login any password ${target.token}\n` });
  }
  snippets.push(proxyMode(remote, target, suites, components));
  return snippets;
}

/**
 * apt's `auth.conf` `machine` for the remote's URL. An entry without a protocol matches only
 * https (apt_auth.conf(5)), so a plain-http cache is named with its `http://`.
 */
function authMachine(base: URL): string {
  const hostPath = `${base.host}${base.pathname}`;
  return base.protocol === 'http:' ? `http://${hostPath}` : hostPath;
}

/**
 * apt-cacher-ng style: the sources name the archive, apt sends absolute-form requests to the
 * cache. The proxy is set for the upstream's host only, so other sources are not sent to a cache
 * that would refuse them; the sources use `http://`, since a `CONNECT` tunnel is refused and the
 * core serves an http target from an https upstream of the same host.
 */
function proxyMode(remote: RemoteDefinition<AptSetupOptions>, target: SetupTarget, suites: readonly string[], components: string): SetupSnippet {
  const upstream = new URL(remote.upstream.href);
  if (upstream.protocol === 'https:' && upstream.port === '') upstream.protocol = 'http:';
  const proxy = `${target.base.protocol}//${target.token ? `any:${target.token}@` : ''}${target.base.host}/`;
  const sources = suites.map((s) => `#   deb ${upstream.href} ${s} ${components}`).join('\n');
  return {
    client: 'apt (proxy mode, instead of the sources above)', file: '/etc/apt/apt.conf.d/01cacheforge-proxy',
    text: `# sources.list keeps naming the archive:\n${sources}\nAcquire::http::Proxy::${upstream.hostname} "${proxy}";\n`,
  };
}
