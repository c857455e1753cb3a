import { purgedBy, type PurgeEvent } from '../cache/purge-bus.js';
import { flightKey } from './resolved.js';

/** How many purges are remembered: a fill that outlives this many purges is checked against none of the older ones. */
const KEPT = 10_000;

/**
 * The purges this process has seen (its own and, through the purge bus, other replicas' and
 * workers'), numbered. A fill notes the generation when it starts; at commit it asks whether a
 * purge since then covers its key, and if so finishes for its clients without being recorded, so a
 * purge is never undone by a download that was already running.
 */
export class PurgeLog {
  private events: { generation: number; matches: (hotKey: string) => boolean }[] = [];
  private current = 0;

  get generation(): number {
    return this.current;
  }

  note(event: PurgeEvent): void {
    this.current += 1;
    this.events.push({ generation: this.current, matches: purgedBy(event) });
    if (this.events.length > KEPT) this.events = this.events.slice(-KEPT);
  }

  /** Whether a purge after `generation` covers this artifact. */
  purgedSince(generation: number, id: { remote: string; key: string; variant: string }): boolean {
    if (generation === this.current) return false;
    const hotKey = flightKey(id);
    return this.events.some((e) => e.generation > generation && e.matches(hotKey));
  }
}
