import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { describeFaultMatrix } from '@cacheforge/conformance';
import { bytesFor } from '@cacheforge/core/testing';
import { buildApk, buildIndex } from './support/apk-bytes.js';

const PLUGIN = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');

describeFaultMatrix({
  name: 'plugin-alpine',
  plugins: [PLUGIN],
  remotes: (upstream) => ({ alpine: { type: 'alpine', upstream } }),
  targets(upstream, id, size) {
    // A package (its index healthy, so a miss reads both) and an index of its own repository.
    const apk = buildApk(`p-${id}`, '1.0-r0', bytesFor(`p-${id}`, size));
    upstream.set(`/${id}/pkgs/x86_64/APKINDEX.tar.gz`, { body: buildIndex([apk.record]) });
    upstream.set(`/${id}/pkgs/x86_64/${apk.file}`, { body: apk.bytes });
    const index = buildIndex([buildApk(`i-${id}`, '1.0-r0', bytesFor(`i-${id}`, 10)).record], bytesFor(`pad-${id}`, size));
    upstream.set(`/${id}/index/x86_64/APKINDEX.tar.gz`, { body: index });
    return [
      { path: `/alpine/${id}/pkgs/x86_64/${apk.file}`, body: apk.bytes, faulty: [`/${id}/pkgs/x86_64/${apk.file}`] },
      { path: `/alpine/${id}/index/x86_64/APKINDEX.tar.gz`, body: index, faulty: [`/${id}/index/x86_64/APKINDEX.tar.gz`], mutable: true },
    ];
  },
});
