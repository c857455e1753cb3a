/** The answer of {@link LearnedHosts.allow}: allowed, or refused with the reason. */
export type HostAllowance = { readonly allowed: true } | { readonly allowed: false; readonly reason: string };

/**
 * The hosts one remote's upstream client may contact beyond its configuration, for a format whose
 * upstream names them in its own documents (cargo's `config.json` `dl`: where crates are
 * downloaded from). A host allowed here counts for this remote only, as an exact `allowedHosts`
 * entry would, with two differences: the remote's configured `headers` are never sent to it, and
 * it is forgotten at restart (the plugin learns it again from the document).
 */
export interface LearnedHosts {
  /**
   * Allows `urlOrHost` (`https://static.crates.io/crates`: its host and port; or `host[:port]`,
   * on the scheme's default port when none is given) for this remote's requests and redirects.
   * Refused, with the reason: another scheme than http(s), a pattern (`*.`), this instance's own
   * address, a link-local or metadata address, loopback when the upstream is not, and any host
   * beyond the 32 one remote may learn. Allowing a host already allowed changes nothing.
   */
  allow(urlOrHost: string | URL): HostAllowance;
}
