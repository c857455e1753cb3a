import { z } from 'zod';

/** At least this many characters: a configured token is a password anyone on the network may guess at. */
export const MIN_CONFIGURED_TOKEN = 24;

const configuredToken = z.string().min(MIN_CONFIGURED_TOKEN, {
  message: `expected a token of at least ${MIN_CONFIGURED_TOKEN} characters (e.g. "\${CF_ADMIN_TOKEN}" with the value from \`openssl rand -hex 24\`)`,
});

/**
 * `auth`: who may read artifacts and use the management API. Reading artifacts is anonymous by
 * default; the management API always needs a token.
 */
export const authSchema = z.strictObject({
  /** Serve artifacts to clients without a token. Default true; false = every artifact request needs a `read` token. */
  anonymousRead: z.boolean().default(true),
  /**
   * Tokens with every scope, from the config (write `["${CF_ADMIN_TOKEN}"]` to keep the value in
   * the environment). Default none: then only tokens made through the API exist, and the first
   * one needs an admin token, so the start log warns.
   */
  adminTokens: z.array(configuredToken).default([]),
  /** When set, `/-/metrics` needs this token (Bearer, or Basic password). Default none: metrics are public. */
  metricsToken: configuredToken.optional(),
  /** The realm named in the 401 challenge. Default cacheforge. */
  realm: z.string().regex(/^[A-Za-z0-9 ._-]{1,64}$/, 'expected letters, digits, spaces, . _ or -').default('cacheforge'),
});

export type AuthConfig = z.output<typeof authSchema>;

export const AUTH_DEFAULTS: AuthConfig = { anonymousRead: true, adminTokens: [], realm: 'cacheforge' };
