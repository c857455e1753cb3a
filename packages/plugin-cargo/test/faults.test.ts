import { createHash } from 'node:crypto';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { describeFaultMatrix } from '@cacheforge/conformance';
import { bytesFor } from '@cacheforge/core/testing';
import { indexPath } from '../src/index-paths.js';

const PLUGIN = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');

// The core's upstream faults on a crate download (checked against its healthy index line) and
// on an index file; config.json, healthy, sends downloads to the same upstream.
describeFaultMatrix({
  name: 'plugin-cargo',
  plugins: [PLUGIN],
  remotes: (upstream) => ({ crates: { type: 'cargo', upstream } }),
  targets(upstream, id, size) {
    upstream.set('/config.json', { body: Buffer.from(JSON.stringify({ dl: `${upstream.url}dl/{crate}/{crate}-{version}.crate` })) });
    const name = `c${id}`.toLowerCase().replace(/[^a-z0-9_-]/g, '-').slice(0, 60);
    const crate = bytesFor(`crate-${id}`, size);
    const cksum = createHash('sha256').update(crate).digest('hex');
    upstream.set(`/${indexPath(name)}`, { body: Buffer.from(`${JSON.stringify({ name, vers: '1.0.0', deps: [], cksum, features: {}, yanked: false })}\n`) });
    upstream.set(`/dl/${name}/${name}-1.0.0.crate`, { body: crate });
    const other = `m${id}`.toLowerCase().replace(/[^a-z0-9_-]/g, '-').slice(0, 60);
    const lines = Array.from({ length: Math.max(1, Math.floor(size / 120)) }, (_, i) => JSON.stringify({ name: other, vers: `1.0.${i}`, deps: [], cksum: '0'.repeat(64), features: {}, yanked: false }));
    const index = Buffer.from(`${lines.join('\n')}\n`);
    upstream.set(`/${indexPath(other)}`, { body: index });
    return [
      { path: `/crates/crates/${name}/1.0.0/download`, body: crate, faulty: [`/dl/${name}/${name}-1.0.0.crate`] },
      { path: `/crates/${indexPath(other)}`, body: index, faulty: [`/${indexPath(other)}`], mutable: true },
    ];
  },
});
