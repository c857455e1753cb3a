import type { IncomingMessage } from 'node:http';

/**
 * The base URL under which a client reached a remote, for rewriting URLs in documents: the
 * configured `publicUrl`, else X-Forwarded-Proto/Host when the proxy in front is trusted, else the
 * Host header the client sent.
 */
export function publicBaseFor(req: IncomingMessage, remote: string, options: { publicUrl?: URL; trustProxy: boolean; encrypted: boolean }): URL {
  if (options.publicUrl) return new URL(`${encodeURIComponent(remote)}/`, options.publicUrl);
  const first = (value: string | string[] | undefined) => (Array.isArray(value) ? value[0] : value)?.split(',')[0]?.trim();
  let proto = options.encrypted ? 'https' : 'http';
  let host = first(req.headers.host) || 'localhost';
  if (options.trustProxy) {
    const fProto = first(req.headers['x-forwarded-proto']);
    const fHost = first(req.headers['x-forwarded-host']);
    if (fProto === 'http' || fProto === 'https') proto = fProto;
    if (fHost) host = fHost;
  }
  try {
    return new URL(`${proto}://${host}/${encodeURIComponent(remote)}/`);
  } catch {
    return new URL(`${proto}://localhost/${encodeURIComponent(remote)}/`);
  }
}
