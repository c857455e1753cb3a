import type { ArtifactRequest } from '@cacheforge/core';
import { indexPath, validCrateName, validVersion } from './index-paths.js';

/**
 * A cargo remote's URL space: the sparse index at its root (`config.json`, one file per crate),
 * the downloads its rewritten `config.json` points cargo at (`crates/<name>/<version>/download`)
 * and the web API under `api/v1/` (the `api` it points cargo at, where only search is read).
 */
export type CargoRequest =
  | { readonly kind: 'config' }
  | { readonly kind: 'index'; readonly name: string }
  | { readonly kind: 'crate'; readonly name: string; readonly version: string }
  | { readonly kind: 'search' }
  | { readonly kind: 'refused'; readonly status: 403 | 404 | 405; readonly reason: string };

const READ_ONLY = 'Cache Forge mirrors the registry read-only';

/** Classifies a request; undefined when it is outside the registry's URL space. */
export function describeRequest(req: ArtifactRequest, upstream: URL): CargoRequest | undefined {
  const { segments, method } = req;
  if (segments[0] === 'api') return describeApi(req, upstream);
  if (method !== 'GET' && method !== 'HEAD') return undefined;
  if (req.path === 'config.json') return { kind: 'config' };
  if (segments.length === 4 && segments[0] === 'crates' && segments[3] === 'download') {
    const [, name, version] = segments as [string, string, string, string];
    return validCrateName(name) && validVersion(version) ? { kind: 'crate', name, version } : undefined;
  }
  const name = segments[segments.length - 1];
  // An index file is reached only at the path its name gives (lower case), so one crate has one key.
  if (name && validCrateName(name) && indexPath(name) === req.path) return { kind: 'index', name };
  return undefined;
}

/**
 * The web API, as cargo calls it on the `api` of `config.json`: `cargo search` reads
 * `api/v1/crates?q=`, which is relayed; publish, yank, owner and the account endpoints write to a
 * registry, which a proxy cannot do, so each is refused naming where to go instead.
 */
function describeApi(req: ArtifactRequest, upstream: URL): CargoRequest {
  const { segments, method, path } = req;
  const registry = `--index sparse+${upstream.href}`;
  if (path === 'api/v1/crates') {
    if (method === 'GET' || method === 'HEAD') return { kind: 'search' };
  }
  if (path === 'api/v1/crates/new') {
    return { kind: 'refused', status: 405, reason: `cargo publish: ${READ_ONLY}; publish to the registry itself (cargo publish ${registry}, or a [registries] entry for it)` };
  }
  if (segments.length === 6 && segments[2] === 'crates' && (segments[5] === 'yank' || segments[5] === 'unyank')) {
    return { kind: 'refused', status: 405, reason: `cargo yank: ${READ_ONLY}; yank on the registry itself (cargo yank ${registry} ...)` };
  }
  if (segments.length === 5 && segments[2] === 'crates' && segments[4] === 'owners') {
    return { kind: 'refused', status: 405, reason: `cargo owner: ${READ_ONLY}; manage owners on the registry itself (cargo owner ${registry} ...)` };
  }
  if (path === 'api/v1/me' || segments[2] === 'tokens' || segments[2] === 'me') {
    return { kind: 'refused', status: 404, reason: `cargo login: a proxy remote has no accounts; log in to the registry itself (cargo login ${registry}); Cache Forge authenticates to it with the remote's token option` };
  }
  return { kind: 'refused', status: 404, reason: `${method} /${path}: only search (api/v1/crates?q=) is relayed to the registry's API` };
}
