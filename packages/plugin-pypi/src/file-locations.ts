/**
 * Where an index's files live and how the proxy names them. PyPI keeps pages on one host and
 * files on another; a self-hosted index keeps both together. A file URL found in a page, relative
 * or absolute, is served by this remote as `files/<project>/<path below the files base>` (or
 * `index-files/...` for a file beside the pages when the two hosts differ). The project name in
 * the path lets a miss find the file's digest on that project's page; it is not part of the key.
 */
export type FileHost = 'files' | 'index-files';

export interface ProxyPaths {
  /** The base of the simple index on the upstream (`<upstream>simple/`). */
  readonly index: URL;
  /** The upstream base (`upstream`): pages, the JSON API, and files that live beside them. */
  readonly upstream: URL;
  /** The file host's base (`files`, default the upstream). */
  readonly files: URL;
}

export class FileLocations {
  private readonly sameHost: boolean;

  constructor(private readonly bases: ProxyPaths) {
    this.sameHost = bases.files.href === bases.upstream.href;
  }

  /** The upstream URL of a file the proxy serves under `host`. `rest` is still percent-encoded. */
  upstreamUrl(host: FileHost, rest: string, search: string): string {
    const base = host === 'files' ? this.bases.files : this.bases.upstream;
    return base.href + rest + search;
  }

  /**
   * The proxy path (below the remote, no leading `/`) of an absolute upstream URL found in a page,
   * with its query and fragment kept; `undefined` for a URL on a host this remote does not serve.
   */
  proxyPath(url: URL, project: string | undefined): string | undefined {
    const href = url.href;
    const index = this.bases.index.href;
    if (href.startsWith(index)) return `simple/${href.slice(index.length)}`;
    if (project === undefined) return undefined;
    const files = this.bases.files.href;
    if (href.startsWith(files)) return `files/${project}/${href.slice(files.length)}`;
    const upstream = this.bases.upstream.href;
    if (!this.sameHost && href.startsWith(upstream)) return `index-files/${project}/${href.slice(upstream.length)}`;
    return undefined;
  }
}
