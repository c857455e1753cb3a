/** A go remote's own options, beside the core's (`upstream`, `ttl`, ...). */
export interface GoOptions {
  /** The checksum database (sum.golang.org: `https://sum.golang.org/`); absent: modules are stored on length only. */
  readonly sumdb?: string;
  /** The database's verifier key, as `GOSUMDB` takes it: `<name>+<hash>+<key>`. Default sum.golang.org's. */
  readonly sumdbKey?: string;
  /** GONOSUMDB-style module path patterns stored without a checksum database check (private modules). */
  readonly noSumCheck?: readonly string[];
}
