/**
 * The `hooks` format, a plain-JS plugin that uses every optional facility of the contract: a root
 * mount (`/hk/`: a ping, a remote named by the first segment, or by `?ns=<upstream host>`), its own
 * error body, an upstream token flow kept in the plugin store, and the pipeline's HEAD validator,
 * digest header, fill-on-HEAD and alias options. `tag/<name>` is a mutable pointer whose upstream
 * sends `x-digest: sha256:<hex>`; `by-digest/<hex>` is immutable.
 */
export const HOOKS_PLUGIN = `export default {
  name: 'hooks',
  core: '^0.1.0',
  mount: {
    prefix: '/hk/',
    route(req, remotes) {
      if (req.rawPath === '') return { kind: 'answer', status: 200, headers: { 'x-hooks': 'ping' }, body: 'pong' };
      const slash = req.rawPath.indexOf('/');
      const named = remotes.find((r) => r.name === req.rawPath.slice(0, slash));
      if (named) return { kind: 'remote', remote: named.name, rawPath: req.rawPath.slice(slash + 1) };
      const byHost = remotes.find((r) => r.upstream.host === req.query.get('ns'));
      if (byHost) return { kind: 'remote', remote: byHost.name, rawPath: req.rawPath, headers: { 'x-routed-by': 'ns' } };
      return { kind: 'unknown', reason: 'nothing mounted here' };
    },
  },
  errorBody: (error, req) => ({ body: { problem: error.code, status: error.status, path: req.path }, headers: { 'x-format': 'hooks' } }),
  createHandler(remote, context) {
    return {
      upstreamAuth: {
        async authorize() {
          const token = await context.store.get('token');
          return token ? { authorization: 'Token ' + token } : undefined;
        },
        async challenge(url, header, fetch) {
          const realm = /realm="([^"]+)"/.exec(header);
          if (!realm) return undefined;
          const res = await fetch(new URL(realm[1]), {});
          if (res.status !== 200) return undefined;
          const token = res.body.toString();
          await context.store.set('token', token, 60000);
          return { authorization: 'Token ' + token };
        },
      },
      canHandle(req) {
        if (req.segments[0] === 'tag' || req.segments[0] === 'doc') return { kind: 'cached', key: req.path, class: 'mutable' };
        if (req.segments[0] === 'by-digest') return { kind: 'cached', key: req.path, class: 'immutable' };
        return undefined;
      },
      async fetch(req, route, ctx) {
        const url = remote.upstream.href + req.rawPath;
        if (req.segments[0] !== 'tag') return ctx.pipeline.serve(req, route, { url });
        const response = await ctx.pipeline.serve(req, route, { url }, {
          keepHeaders: ['content-type', 'x-digest'], headValidator: 'x-digest', verify: { kind: 'header', header: 'x-digest' }, fillOnHead: true,
          alias: (hex) => ({ kind: 'cached', key: 'by-digest/' + hex, class: 'immutable' }),
        });
        return { ...response, headers: { ...response.headers, 'x-added': 'by-handler' } };
      },
    };
  },
};
`;
