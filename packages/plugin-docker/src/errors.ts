import type { ErrorBodyFormatter, PublicError } from '@cacheforge/core';

/** Header every registry API response carries (clients use it to recognise a v2 registry). */
export const API_VERSION_HEADER = { 'docker-distribution-api-version': 'registry/2.0' } as const;

/**
 * The OCI error code for a Cache Forge error on a registry path: "unknown" becomes
 * MANIFEST_UNKNOWN / BLOB_UNKNOWN / NAME_UNKNOWN by what was asked for, refused methods are
 * UNSUPPORTED, upstream 429 TOOMANYREQUESTS, an upstream refusing our credentials UNAUTHORIZED.
 */
export function ociErrorCode(error: PublicError, path: string): string {
  switch (error.code) {
    case 'CF_ERR_NOT_FOUND':
    case 'CF_ERR_UPSTREAM_NOT_FOUND':
      return /\/manifests\/[^/]+$/.test(path) ? 'MANIFEST_UNKNOWN' : /\/blobs\/[^/]+$/.test(path) ? 'BLOB_UNKNOWN' : 'NAME_UNKNOWN';
    case 'CF_ERR_REMOTE_UNKNOWN': return 'NAME_UNKNOWN';
    case 'CF_ERR_REQUEST_BAD_PATH': return 'NAME_INVALID';
    case 'CF_ERR_REQUEST_METHOD': return 'UNSUPPORTED';
    case 'CF_ERR_REQUEST_RANGE': return 'SIZE_INVALID';
    case 'CF_ERR_UPSTREAM_RATE_LIMITED': return 'TOOMANYREQUESTS';
    case 'CF_ERR_UPSTREAM_DENIED': return error.detail?.upstreamStatus === 401 ? 'UNAUTHORIZED' : 'DENIED';
    case 'CF_ERR_AUTH_REQUIRED':
    case 'CF_ERR_AUTH_INVALID': return 'UNAUTHORIZED';
    case 'CF_ERR_AUTH_FORBIDDEN':
    case 'CF_ERR_POLICY_DENIED':
    case 'CF_ERR_POLICY_TOO_LARGE': return 'DENIED';
    default: return 'UNKNOWN';
  }
}

/** `{"errors":[{"code","message","detail"}]}`, the distribution spec's error body; `detail.cacheforge` keeps our code. */
export const ociErrorBody: ErrorBodyFormatter = (error, req) => ({
  body: { errors: [{ code: ociErrorCode(error, req.path), message: error.message, detail: { ...error.detail, cacheforge: error.code } }] },
  headers: API_VERSION_HEADER,
});
