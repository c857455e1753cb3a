/** One configured remote as a plugin sees it: its name, upstream and validated options. */
export interface RemoteDefinition<O extends object = Record<string, unknown>> {
  /** The remote's name: the first path segment clients use (`/npm/...`). */
  readonly name: string;
  /** The upstream base URL, always ending in `/`. */
  readonly upstream: URL;
  /** The format-specific options, validated by the plugin's schema, `${VAR}`s resolved. */
  readonly options: O;
}

/** A config problem {@link FormatPlugin.checkRemotes} found: the remote, the key under it, and why. */
export interface RemoteProblem {
  readonly remote: string;
  readonly key: string;
  readonly message: string;
}
