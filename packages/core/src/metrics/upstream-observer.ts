/** What an upstream client reports, for metrics. */
export interface UpstreamObserver {
  onResponse(remote: string, status: number, seconds: number): void;
  onError(remote: string, reason: string): void;
  /** An upstream host's state: first seen (`changed` false), marked down, or up again. */
  onHealth?(remote: string, host: string, up: boolean, changed: boolean): void;
}
