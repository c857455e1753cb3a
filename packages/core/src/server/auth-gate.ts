import type { Context } from 'koa';
import type { RequestAuth } from '../auth/request-auth.js';
import type { RemoteDispatcher } from './dispatch.js';

/**
 * The dispatcher with the remote check in front: a token limited to some remotes is refused (403)
 * on the others, whichever way the request reached the remote (its path, a format's mount, a
 * proxy target).
 */
export function gatedDispatcher(inner: RemoteDispatcher, auth: RequestAuth): RemoteDispatcher {
  return {
    byPath(ctx: Context) {
      // The remote's name exactly as the dispatcher reads it.
      const path = ctx.request.path;
      const slash = path.indexOf('/', 1);
      auth.remote(ctx, slash === -1 ? path.slice(1) : path.slice(1, slash));
      return inner.byPath(ctx);
    },
    to(ctx, remote, rawPath, publicBase) {
      auth.remote(ctx, remote);
      return inner.to(ctx, remote, rawPath, publicBase);
    },
  };
}

