import type { Logger } from '../util/logger.js';

/**
 * Said once at start, by the process that announces the instance (the only process, or the
 * primary of workers): without an admin token nobody can use the API, and artifact reads are open
 * to whoever reaches the port unless `auth.anonymousRead` is false.
 */
export function warnNoAdminToken(log: Logger, anonymousRead: boolean): void {
  log.warn({ anonymousRead }, 'no admin token configured (auth.adminTokens): the management API under /-/api/v1/ cannot be used until one is; artifacts are readable by anyone who reaches this port unless auth.anonymousRead is false');
}
