import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { pluginSuite } from '@cacheforge/conformance';

const PLUGIN = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');

// What npm, pnpm and yarn ask for: package documents (plain and scoped, `%2f` as npm sends it,
// `%2F` as pnpm does), tarballs, the relayed and refused endpoints. One version, a tag and the
// dist-tags are answered from the package document, which is what is cached: views of it.
pluginSuite(PLUGIN, {
  cwd: PLUGIN,
  remote: { upstream: 'http://127.0.0.1:9/registry/' },
  samples: [
    'koa', 'koa/-/koa-3.0.0.tgz', '@koa%2frouter', '@koa/router/-/router-15.0.0.tgz', '@types%2Fnode', '-/ping', '-/v1/search',
    '-/npm/v1/security/advisories/bulk', '-/whoami', '-/npm/v1/tokens', 'koa/_rev', 'koa/-/koa-3.0.0.tgz/extra',
  ],
  views: {
    'koa/3.0.0': 'koa', 'koa/latest': 'koa', '-/package/koa/dist-tags': 'koa',
    '@types/node/20.19.0': '@types%2Fnode', '-/package/@koa%2frouter/dist-tags': '@koa%2frouter',
  },
});
