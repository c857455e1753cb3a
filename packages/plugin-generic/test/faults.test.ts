import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { describeFaultMatrix } from '@cacheforge/conformance';
import { bytesFor } from '@cacheforge/core/testing';

const PLUGIN = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');

describeFaultMatrix({
  name: 'plugin-generic',
  plugins: [PLUGIN],
  remotes: (upstream) => ({ files: { type: 'generic', upstream } }),
  targets(upstream, id, size) {
    // An archive (immutable) and a document (mutable): both paths of the pipeline.
    return ['release.tar.gz', 'SHA256SUMS'].map((name) => {
      const body = bytesFor(`${id}/${name}`, size);
      upstream.set(`/${id}/${name}`, { body });
      return { path: `/files/${id}/${name}`, body, faulty: [`/${id}/${name}`], mutable: name === 'SHA256SUMS' };
    });
  },
});
