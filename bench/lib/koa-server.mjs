// The bare koa route: the same files answered from memory by koa alone (the koa Cache Forge is
// built on), the ceiling of our stack for small hits. Usage: node koa-server.mjs PORT FILE...
// Each FILE is served at /files/<basename>.
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { pathToFileURL } from 'node:url';

const here = path.dirname(new URL(import.meta.url).pathname);
const koaDir = path.resolve(here, '../../packages/core/node_modules/koa');
const manifest = JSON.parse(readFileSync(path.join(koaDir, 'package.json'), 'utf8'));
const entry = manifest.exports?.['.']?.import ?? manifest.main;
const { default: Koa } = await import(pathToFileURL(path.join(koaDir, entry)).href);

const [port, ...files] = process.argv.slice(2);
const bodies = new Map(files.map((f) => [`/files/${path.basename(f)}`, readFileSync(f)]));

const app = new Koa();
app.use((ctx) => {
  const body = bodies.get(ctx.path);
  if (!body) { ctx.status = 404; return; }
  ctx.type = 'application/octet-stream';
  ctx.body = body;
});
const server = app.listen(Number(port), '127.0.0.1', () => process.stdout.write(`koa listening on ${port} (koa ${manifest.version})\n`));
server.keepAliveTimeout = 65_000;
process.on('SIGTERM', () => server.close(() => process.exit(0)));
