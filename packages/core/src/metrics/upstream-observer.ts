/** What an upstream client reports, for metrics and logs. */
export interface UpstreamObserver {
  onResponse(remote: string, status: number, seconds: number): void;
  onError(remote: string, reason: string): void;
  /** An upstream host's state: first seen (`changed` false), marked down, or up again. */
  onHealth?(remote: string, host: string, up: boolean, changed: boolean): void;
  /** The remote's plugin allowed a host learned from the upstream's documents (once per host). */
  onLearnedHost?(remote: string, host: string): void;
}
