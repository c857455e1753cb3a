import type { Server } from 'node:http';
import type { Socket } from 'node:net';
import type Koa from 'koa';
import { cfError } from '../errors/errors.js';

/** Counts what each client address holds open. */
class PerAddress {
  private readonly open = new Map<string, number>();

  constructor(private readonly max: number) {}

  /** Takes one slot for `address`; false when it holds `max` already. */
  take(address: string): boolean {
    const held = this.open.get(address) ?? 0;
    if (held >= this.max) return false;
    this.open.set(address, held + 1);
    return true;
  }

  release(address: string): void {
    const held = (this.open.get(address) ?? 1) - 1;
    if (held <= 0) this.open.delete(address);
    else this.open.set(address, held);
  }
}

/**
 * Closes a new connection at once when its address already holds `max`, so one client (500 slow
 * sockets) cannot take every file descriptor and starve the others. 0 = no limit.
 */
export function capConnectionsPerClient(server: Server, max: number, onRefused: () => void): void {
  if (max <= 0) return;
  const counts = new PerAddress(max);
  server.on('connection', (socket: Socket) => {
    const address = socket.remoteAddress ?? '';
    if (!counts.take(address)) {
      onRefused();
      socket.destroy();
      return;
    }
    socket.once('close', () => counts.release(address));
  });
}

/**
 * Behind a trusted proxy every connection comes from the proxy: the cap applies to requests in
 * progress per forwarded address (`ctx.ip`) instead, answered 429 past it. 0 = no limit.
 */
export function capRequestsPerClient(max: number): Koa.Middleware {
  const counts = new PerAddress(max);
  return async (ctx, next) => {
    if (max <= 0) return next();
    const address = ctx.ip;
    if (!counts.take(address)) {
      throw cfError('CF_ERR_REQUEST_TOO_MANY', `${address} already has ${max} requests in progress (server.maxConnectionsPerClient)`, { headers: { 'retry-after': '1' } });
    }
    // A response body streams on after the middleware returns: the slot is held until the response ends.
    ctx.res.once('close', () => counts.release(address));
    await next();
  };
}
