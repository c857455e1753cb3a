import type { IncomingHttpHeaders } from 'node:http';
import type { ArtifactRequest, ArtifactResponse, UpstreamRequest } from '../../contract/index.js';
import type { UpstreamClient } from '../../upstream/client.js';
import { discardBody } from '../../upstream/client.js';
import { upstreamStatusError } from '../../upstream/outcome.js';
import { redact } from '../../util/redact.js';
import { toUrl } from '../resolved.js';

const HOP_BY_HOP = new Set(['connection', 'keep-alive', 'proxy-authenticate', 'proxy-authorization', 'te', 'trailer', 'transfer-encoding', 'upgrade', 'set-cookie']);

/** Relays a request to the upstream, storing nothing (search, audit). */
export async function relay(client: UpstreamClient, remote: string, req: ArtifactRequest, upstream: UpstreamRequest): Promise<ArtifactResponse> {
  const forwarded: Record<string, string> = {};
  // A relayed body keeps its own framing and encoding (npm gzips its audit reports).
  const names = req.body ? ['accept', 'content-type', 'user-agent', 'content-encoding', 'content-length'] : ['accept', 'content-type', 'user-agent'];
  for (const name of names) {
    const value = req.headers[name];
    if (typeof value === 'string') forwarded[name] = value;
  }
  const url = toUrl(upstream.url);
  const response = await client.request({ url, method: req.method, headers: { ...forwarded, ...upstream.headers }, body: req.body });
  // A relay answers for the upstream: its 4xx (a 405 to an audit, a 401, a 429) is the client's
  // answer, body and headers included. Only a 5xx means the upstream failed, which is our 502.
  if (response.status >= 500) {
    discardBody(response);
    throw upstreamStatusError(response.status, response.headers, `${req.method} ${redact(url)}`, remote);
  }
  if (req.method === 'HEAD') discardBody(response);
  return { status: response.status, cacheStatus: 'BYPASS', headers: relayHeaders(response.headers), body: req.method === 'HEAD' ? undefined : response.body };
}

function relayHeaders(headers: IncomingHttpHeaders): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [name, value] of Object.entries(headers)) {
    if (HOP_BY_HOP.has(name) || value === undefined) continue;
    out[name] = Array.isArray(value) ? value.join(', ') : value;
  }
  return out;
}
