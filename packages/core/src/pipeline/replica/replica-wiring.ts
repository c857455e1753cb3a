import type { HotCache } from '../../cache/cache.js';
import type { CacheForgeConfig } from '../../config/config.js';
import { isUnspecified } from '../../net/addresses.js';
import type { ListenAddress, SelfIdentity } from '../../net/self.js';
import type { Storage } from '../../storage/storage.js';
import type { Clock } from '../../util/clock.js';
import type { Logger } from '../../util/logger.js';
import { FillDirectory } from './fill-directory.js';
import { ReplicaSharing } from './replica-sharing.js';

/** Streaming fills across replicas, when `cluster.secret` is set (else a loser waits for the winner's commit). */
export function replicaSharing(config: CacheForgeConfig, identity: SelfIdentity, storage: Storage, spool: Storage | undefined, cache: HotCache,
  clock: Clock, log: Logger): { sharing: ReplicaSharing; directory: FillDirectory } | undefined {
  const secret = config.cluster.secret;
  if (!secret) return undefined;
  // Read when a fill starts: the port of `server.port: 0` is known only once the server listens.
  const advertise = (): string | undefined => config.cluster.advertiseUrl ?? listenUrl(identity.bound);
  const { wait, ttl } = config.cache.lock;
  const directory = new FillDirectory(cache, advertise, wait + ttl, log);
  const sharing = new ReplicaSharing({ cache, directory, secret, storage, spool: spool ?? storage, wait, clock, log });
  return { sharing, directory };
}

/** The listen address as a URL, unless it names every interface (no address the others could reach). */
export function listenUrl(bound: ListenAddress | undefined): string | undefined {
  if (!bound || bound.port === 0 || isUnspecified(bound.host)) return undefined;
  const host = bound.host.includes(':') ? `[${bound.host}]` : bound.host;
  return `http://${host}:${bound.port}`;
}
