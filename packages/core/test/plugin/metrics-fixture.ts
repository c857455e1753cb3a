import { pluginModule } from './fixtures.js';

/**
 * The `file-tally` format, a plain-JS plugin that counts into the core's metrics: every answer by
 * its cache status, the size of what it served (a gauge and a histogram), and a counter with no
 * labels of its own that nothing increments (it must still show 0 per remote). It serves
 * `files/<path>` from `<upstream><path>` and logs one line per fetch through its context's log.
 */
export const TALLY_PLUGIN = pluginModule(`{
  name: 'file-tally',
  core: '^0.1.0',
  createHandler(remote, context) {
    const answers = context.metrics.counter({ name: 'answers_total', help: 'Answers of the tally handler, by cache status.', labelNames: ['cache'] });
    const unlisted = context.metrics.counter({ name: 'unlisted_files_total', help: 'Files stored on their length alone.' });
    const lastSize = context.metrics.gauge({ name: 'last_size_bytes', help: 'Size of the last file served.' });
    const sizes = context.metrics.histogram({ name: 'file_size_bytes', help: 'Sizes of the files served.', buckets: [100, 10000, 1000000] });
    return {
      canHandle(req) {
        if (req.segments[0] === 'files' && req.segments.length > 1) return { kind: 'cached', key: req.path.slice('files/'.length), class: 'immutable' };
        return undefined;
      },
      async fetch(req, route, ctx) {
        const res = await ctx.pipeline.serve(req, route, { url: remote.upstream.href + route.key });
        answers.inc({ cache: res.cacheStatus.toLowerCase() });
        if (res.entity && res.entity.size !== undefined) {
          lastSize.set(res.entity.size);
          sizes.observe(res.entity.size);
        }
        context.log.info({ key: route.key }, 'tally answered');
        ctx.log.info({ key: route.key }, 'tally fetched');
        return res;
      },
    };
  },
}`);

/**
 * A plugin of format `name` whose `createHandler` runs `declare` (JavaScript with `context` in
 * scope) and then makes a handler that knows no paths.
 */
export function declaringPlugin(name: string, declare: string): string {
  return pluginModule(`{
  name: ${JSON.stringify(name)},
  core: '^0.1.0',
  createHandler(remote, context) {
    ${declare}
    return { canHandle() { return undefined; }, async fetch() { throw new Error('unreachable'); } };
  },
}`);
}
