import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { describeFaultMatrix } from '@cacheforge/conformance';
import { bytesFor } from '@cacheforge/core/testing';

const PLUGIN = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');

// The core's upstream faults on a remote without a checksum database (stored on length): a
// module zip and its version list.
describeFaultMatrix({
  name: 'plugin-go',
  plugins: [PLUGIN],
  remotes: (upstream) => ({ go: { type: 'go', upstream } }),
  targets(upstream, id, size) {
    const module = `example.com/m-${id}`;
    const zip = bytesFor(module, size);
    const list = Buffer.from(Array.from({ length: Math.max(1, Math.floor(size / 8)) }, (_, i) => `v1.0.${i}\n`).join(''));
    upstream.set(`/${module}/@v/v1.0.0.zip`, { body: zip });
    upstream.set(`/${module}/@v/list`, { body: list });
    return [
      { path: `/go/${module}/@v/v1.0.0.zip`, body: zip, faulty: [`/${module}/@v/v1.0.0.zip`] },
      { path: `/go/${module}/@v/list`, body: list, faulty: [`/${module}/@v/list`], mutable: true },
    ];
  },
});
