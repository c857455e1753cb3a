/**
 * Plugin sources the tests write to temp folders outside the workspace: plain ES modules with no
 * imports at all (no @cacheforge/core, no zod), the way a third party may write one.
 */

/** A module whose default export is the object literal `body`. */
export function pluginModule(body: string): string {
  return `export default ${body};\n`;
}

/** A minimal valid plugin of format `name` (one handler that knows no paths). */
export function minimalPlugin(name: string, extra = ''): string {
  return pluginModule(`{
  name: ${JSON.stringify(name)},
  core: '^0.1.0',
  ${extra}
  createHandler() { return { canHandle() { return undefined; }, async fetch() { throw new Error('unreachable'); } }; },
}`);
}

/**
 * The `greet` format: a required `greeting` option (and a defaulted `punctuation`); it answers
 * `hello/<who>` from its own logic and serves `files/<path>` from the upstream through the cache
 * pipeline, as `<upstream><path>`.
 */
export const GREET_PLUGIN = `// A third-party Cache Forge plugin: no imports; zod arrives through options(z).
export default {
  name: 'greet',
  core: '^0.1.0',
  description: 'greets, and caches files/ from its upstream',
  options: (z) => z.object({ greeting: z.string().min(1), punctuation: z.string().default('!') }),
  classes: { immutable: ['^files/'] },
  createHandler(remote, context) {
    context.log.debug({ remote: remote.name }, 'greet handler created');
    return {
      canHandle(req) {
        if (req.segments[0] === 'hello' && req.segments.length === 2) return { kind: 'passthrough' };
        if (req.segments[0] === 'files' && req.segments.length > 1) return { kind: 'cached', key: req.path };
        return undefined;
      },
      async fetch(req, route, ctx) {
        if (route.kind === 'passthrough') {
          return {
            status: 200, cacheStatus: 'BYPASS', headers: { 'content-type': 'text/plain; charset=utf-8' },
            body: remote.options.greeting + ', ' + req.segments[1] + remote.options.punctuation,
          };
        }
        const url = new URL(remote.upstream.href + req.rawPath.slice('files/'.length));
        return ctx.pipeline.serve(req, route, { url });
      },
    };
  },
};
`;

/** The `echo` format, written as a package folder (see {@link ECHO_PACKAGE_JSON}): answers every path with itself. */
export const ECHO_PLUGIN = `export default {
  name: 'echo',
  core: '>=0.1.0 <1',
  options: (z) => z.object({ prefix: z.string().default('echo:') }),
  createHandler(remote) {
    return {
      canHandle() { return { kind: 'passthrough' }; },
      async fetch(req) {
        return { status: 200, cacheStatus: 'BYPASS', headers: { 'content-type': 'text/plain' }, body: remote.options.prefix + req.path };
      },
    };
  },
};
`;

/** A package.json whose `exports` (not `main`, which points nowhere) leads to lib/plugin.js. */
export const ECHO_PACKAGE_JSON = {
  name: 'cacheforge-plugin-echo',
  version: '1.0.0',
  type: 'module',
  main: './does-not-exist.js',
  exports: { '.': { import: './lib/plugin.js', default: './lib/plugin.js' }, './package.json': './package.json' },
  peerDependencies: { '@cacheforge/core': '^0.1.0' },
};
