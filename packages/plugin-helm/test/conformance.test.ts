import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { pluginSuite } from '@cacheforge/conformance';

const PLUGIN = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');

// What helm asks for: the index, charts and provenance files beside it (relative URLs, nested or
// not), and files the index lists on other allowed hosts (`-/<scheme>/<host>/…`).
pluginSuite(PLUGIN, {
  cwd: PLUGIN,
  remote: { upstream: 'https://charts.example/stable/', allowedHosts: ['github.example', '*.cdn.example'] },
  samples: [
    'index.yaml', 'redis-19.0.0.tgz', 'charts/redis-19.0.0.tgz', 'charts/redis-19.0.0.tgz.prov',
    '-/https/github.example/owner/charts/releases/download/redis-19.0.0/redis-19.0.0.tgz',
    '-/https/objects.cdn.example/x/redis-19.0.0.tgz', '-/https/other.example/redis-19.0.0.tgz', '-/ftp/github.example/x.tgz', '-/https',
  ],
});
