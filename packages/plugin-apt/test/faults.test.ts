import { createHash } from 'node:crypto';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { describeFaultMatrix } from '@cacheforge/conformance';
import { bytesFor } from '@cacheforge/core/testing';

const PLUGIN = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const sha256 = (b: Buffer) => createHash('sha256').update(b).digest('hex');

describeFaultMatrix({
  name: 'plugin-apt',
  plugins: [PLUGIN],
  remotes: (upstream) => ({ debian: { type: 'apt', upstream } }),
  targets(upstream, id, size) {
    // An index by hash (verified by its own name) and a suite's InRelease (mutable).
    const index = bytesFor(`index-${id}`, size);
    const byHash = `/dists/s${id}/main/binary-amd64/by-hash/SHA256/${sha256(index)}`;
    upstream.set(byHash, { body: index });
    const release = Buffer.concat([Buffer.from(`Suite: s${id}\nSHA256:\n`), bytesFor(`release-${id}`, size)]);
    upstream.set(`/dists/s${id}/InRelease`, { body: release });
    return [
      { path: `/debian${byHash}`, body: index, faulty: [byHash] },
      { path: `/debian/dists/s${id}/InRelease`, body: release, faulty: [`/dists/s${id}/InRelease`], mutable: true },
    ];
  },
});
