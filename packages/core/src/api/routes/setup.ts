import type { ApiRoute } from '../route.js';
import type { ApiServices } from '../services.js';
import { object } from '../schemas.js';
import { setupSnippets } from '../setup.js';
import { mounted } from './remotes.js';

/** `GET /remotes/{name}/setup`: the client configuration for one remote, as JSON. */
export function setupRoutes(s: ApiServices): ApiRoute[] {
  return [{
    method: 'GET', path: '/remotes/{name}/setup', operationId: 'getRemoteSetup', tag: 'setup', scope: 'read',
    params: { name: { description: 'the remote\'s name', schema: { type: 'string' } } },
    summary: 'The exact client configuration for this remote at this instance\'s URL (a <TOKEN> placeholder where reads need one)',
    responses: {
      200: {
        description: 'The snippets',
        schema: object({
          remote: { type: 'string' }, type: { type: 'string' }, url: { type: 'string' }, tokenRequired: { type: 'boolean' },
          snippets: { type: 'array', items: object({ client: { type: 'string' }, file: { type: 'string' }, text: { type: 'string' } }, ['file']) },
        }),
      },
    },
    handle({ params, ctx }) {
      const r = mounted(s, params.name!);
      const { base, snippets } = setupSnippets(r, s.config, ctx);
      return {
        status: 200,
        body: { remote: r.config.name, type: r.plugin.name, url: base.href, tokenRequired: !s.config.auth.anonymousRead, snippets },
      };
    },
  }];
}
