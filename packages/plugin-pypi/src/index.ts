import { definePlugin, type RemoteDefinition } from '@cacheforge/core';
import { pypiClientSetup } from './client-setup.js';
import { PypiHandler } from './handler.js';
import type { ProxyPaths } from './file-locations.js';

/** A PyPI remote's own options, beside the core's (`upstream`, `ttl`, ...). */
export interface PypiOptions {
  /** Base URL of the file host the index links to (PyPI: `https://files.pythonhosted.org/`). Default: the upstream. */
  readonly files?: string;
  /** Path of the simple index below `upstream`. Default `simple/`. */
  readonly indexPath: string;
}

function withSlash(url: string): URL {
  return new URL(url.endsWith('/') ? url : `${url}/`);
}

function basesOf(remote: RemoteDefinition<PypiOptions>): ProxyPaths {
  return {
    upstream: remote.upstream,
    index: new URL(remote.options.indexPath, remote.upstream),
    files: remote.options.files ? withSlash(remote.options.files) : remote.upstream,
  };
}

/**
 * The Python package index format: PyPI, or any index that speaks the simple repository API
 * (PEP 503 HTML, PEP 691 JSON) such as Nexus, Artifactory, devpi or Gitea. Clients point their
 * index URL at `/<remote>/simple/`; pages are revalidated after their TTL, files are kept forever.
 */
export default definePlugin<PypiOptions>({
  name: 'pypi',
  core: '^0.1.0',
  description: 'PyPI and any PEP 503 / PEP 691 Python package index',
  options: (z) => z.object({
    files: z.string().url().refine((u) => /^https?:/.test(u), 'must be an http(s) URL').optional(),
    indexPath: z.string().regex(/^[^/?#][^?#]*\/$/, 'a relative path ending in /, such as simple/').default('simple/'),
  }),
  classes: {
    immutable: ['^(files|index-files)/'],
    mutable: ['^(simple|pypi)/'],
    fallback: 'mutable',
    ttl: { mutable: 10 * 60_000 },
  },
  defaultRemotes: () => ({
    pypi: { upstream: 'https://pypi.org/', files: 'https://files.pythonhosted.org/' },
  }),
  // `host` keeps a non-default port: an allowedHosts entry without one means the default port.
  upstreamHosts: (remote) => (remote.options.files ? [withSlash(remote.options.files).host] : []),
  clientSetup: (_remote, target) => pypiClientSetup(target),
  createHandler(remote, context) {
    return new PypiHandler(basesOf(remote), context.log);
  },
});
