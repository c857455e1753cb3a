import { randomBytes } from 'node:crypto';
import { networkInterfaces } from 'node:os';
import { isLoopback, isUnspecified, normalizeHost } from './addresses.js';

/** An address a server listens on. */
export interface ListenAddress {
  readonly host: string;
  readonly port: number;
}

/**
 * Who this Cache Forge instance is, for the loop guard and the redirect policy: a random id per
 * instance (sent upstream as `Via: 1.1 cacheforge-<id>`) and the addresses it listens on, which
 * no remote may fetch from (a redirect to the proxy's own `/-/metrics` would cache its metrics).
 */
export class SelfIdentity {
  readonly instanceId: string;
  private listening: ListenAddress[];

  constructor(listen: readonly ListenAddress[], instanceId = randomBytes(8).toString('hex')) {
    this.instanceId = instanceId;
    this.listening = [...listen];
  }

  /** The `Via` entry this instance adds to every upstream request. */
  get via(): string {
    return `1.1 cacheforge-${this.instanceId}`;
  }

  /** Records the address actually bound (a configured port 0 becomes the one the OS chose). */
  listeningOn(address: ListenAddress): void {
    this.listening = [address];
  }

  /** The address bound (or configured, before the server listens). */
  get bound(): ListenAddress | undefined {
    return this.listening[0];
  }

  /** True when a `Via` header names this instance (a request that went round in a loop). */
  inVia(via: string | string[] | undefined): boolean {
    if (!via) return false;
    const token = `cacheforge-${this.instanceId}`.toLowerCase();
    return (Array.isArray(via) ? via.join(',') : via).toLowerCase().split(',').some((entry) => entry.trim().split(/\s+/)[1] === token);
  }

  /** True when `host:port` reaches this instance. */
  isSelf(host: string, port: number): boolean {
    return this.listening.some((listen) => port === listen.port && reachesListen(normalizeHost(host), normalizeHost(listen.host)));
  }
}

/**
 * Whether connecting to `target` reaches a server bound to `listen`, without DNS: the same
 * literal; any loopback name for a loopback or wildcard bind; any local interface address for a
 * wildcard bind; and the wildcard address itself, which connects to the local host.
 */
function reachesListen(target: string, listen: string): boolean {
  if (target === listen) return true;
  const local = isLoopback(target) || isUnspecified(target);
  if (isUnspecified(listen)) return local || localAddresses().has(target);
  if (isLoopback(listen)) return local;
  return isUnspecified(target);
}

let local: Set<string> | undefined;

/**
 * The machine's interface addresses, read once: the check runs for every upstream request on the
 * listen port, and an address added after start is not one a configured upstream names.
 */
function localAddresses(): Set<string> {
  if (local) return local;
  local = new Set<string>();
  for (const list of Object.values(networkInterfaces())) for (const entry of list ?? []) local.add(normalizeHost(entry.address));
  return local;
}
