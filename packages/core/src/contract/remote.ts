/** One configured remote as a plugin sees it: its name, upstream and validated options. */
export interface RemoteDefinition<O extends object = Record<string, unknown>> {
  /** The remote's name: the first path segment clients use (`/npm/...`). */
  readonly name: string;
  /** The upstream base URL, always ending in `/`. */
  readonly upstream: URL;
  /** The format-specific options, validated by the plugin's schema, `${VAR}`s resolved. */
  readonly options: O;
  /**
   * The remote's `allowedHosts` (a URL's `host`, or `*.example.com`): hosts besides the upstream's
   * own that this remote may fetch from. A format that finds URLs on other hosts in its documents
   * rewrites those on allowed hosts to pass through the cache and leaves the rest as they are.
   * The core always sets it; it is optional only so tests can make definitions by hand.
   */
  readonly allowedHosts?: readonly string[];
  /**
   * The base URL clients reach this remote under (`server.publicUrl` + the remote's name, ending in
   * `/`), when the config fixes one. Absent: it depends on how each client came in, and
   * `ArtifactRequest.publicBase` gives it per request.
   */
  readonly publicBase?: URL;
}

/** A config problem {@link FormatPlugin.checkRemotes} found: the remote, the key under it, and why. */
export interface RemoteProblem {
  readonly remote: string;
  readonly key: string;
  readonly message: string;
}
