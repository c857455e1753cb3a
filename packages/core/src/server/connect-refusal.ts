import type { IncomingMessage, Server } from 'node:http';
import type { Duplex } from 'node:stream';
import { ERROR_CODES } from '../errors/codes.js';
import type { Logger } from '../util/logger.js';
import type { ErrorBody } from './error-middleware.js';

/**
 * Answers `CONNECT host:port` with 405 and a coded error. Node hands CONNECT to the server's
 * 'connect' event, never to the app, and without a listener closes the socket: a client (an
 * `https_proxy` pointing here) would see a bare reset and no reason.
 */
export function refuseConnect(server: Server, log: Logger): void {
  server.on('connect', (req: IncomingMessage, socket: Duplex) => {
    socket.on('error', () => undefined);
    const code = 'CF_ERR_PROXY_CONNECT_REFUSED';
    const host = authorityOf(req.url ?? '');
    const message = `CONNECT${host ? ` ${host}` : ''}: Cache Forge is a caching proxy, not a tunnel; it cannot cache what it cannot read. `
      + 'Use the mirror\'s http:// URL through this proxy (a remote with that upstream fetches it, over https if its upstream says so), '
      + 'or a remote\'s own URL, http://<this host>/<remote>/.';
    log.info({ method: 'CONNECT', code, host }, 'request refused');
    const body: ErrorBody = { errors: [{ code, message }] };
    const text = JSON.stringify(body);
    socket.end(`HTTP/1.1 ${ERROR_CODES[code].status} Method Not Allowed\r\nAllow: GET, HEAD\r\nContent-Type: application/json; charset=utf-8\r\n`
      + `Content-Length: ${Buffer.byteLength(text)}\r\nConnection: close\r\n\r\n${text}`);
  });
}

/** The `host:port` a CONNECT names, without any userinfo; `undefined` when it is not one. */
function authorityOf(target: string): string | undefined {
  try {
    const url = new URL(`http://${target}`);
    return url.pathname === '/' && !url.search ? url.host : undefined;
  } catch {
    return undefined;
  }
}
