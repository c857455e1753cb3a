import { createHash } from 'node:crypto';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { describeFaultMatrix } from '@cacheforge/conformance';
import { bytesFor } from '@cacheforge/core/testing';

const PLUGIN = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');

/** A package document listing one version, its readme padded to `size` so the document has a body worth cutting. */
function packument(upstream: string, name: string, tarball: Buffer, size: number): Buffer {
  const integrity = `sha512-${createHash('sha512').update(tarball).digest('base64')}`;
  return Buffer.from(JSON.stringify({
    name, 'dist-tags': { latest: '1.0.0' }, readme: 'r'.repeat(size),
    versions: { '1.0.0': { name, version: '1.0.0', dist: { tarball: `${upstream}${name}/-/${name}-1.0.0.tgz`, integrity } } },
  }));
}

describeFaultMatrix({
  name: 'plugin-npm',
  plugins: [PLUGIN],
  remotes: (upstream) => ({ npm: { type: 'npm', upstream } }),
  targets(upstream, id, size) {
    // A tarball (its document healthy) and a document: a miss reads both.
    const tarballName = `t-${id}`;
    const tarball = bytesFor(tarballName, size);
    upstream.set(`/${tarballName}`, { body: packument(upstream.url, tarballName, tarball, 0), headers: { 'content-type': 'application/json' } });
    upstream.set(`/${tarballName}/-/${tarballName}-1.0.0.tgz`, { body: tarball });
    const docName = `d-${id}`;
    const docTarball = bytesFor(docName, 10);
    const doc = packument(upstream.url, docName, docTarball, size);
    upstream.set(`/${docName}`, { body: doc, headers: { 'content-type': 'application/json' } });
    upstream.set(`/${docName}/-/${docName}-1.0.0.tgz`, { body: docTarball });
    return [
      { path: `/npm/${tarballName}/-/${tarballName}-1.0.0.tgz`, body: tarball, faulty: [`/${tarballName}/-/${tarballName}-1.0.0.tgz`] },
      {
        path: `/npm/${docName}`, body: doc, headers: { accept: 'application/json' }, faulty: [`/${docName}`], mutable: true,
        // The document comes back with its tarball URLs pointing here: whole means every field is.
        check(received) {
          let parsed: { readme?: string; versions?: Record<string, { dist?: { tarball?: string } }> };
          try { parsed = JSON.parse(received.toString()); } catch { return `is not JSON (${received.length} bytes)`; }
          if (parsed.readme?.length !== size) return `has a readme of ${parsed.readme?.length} characters, not ${size}`;
          if (!parsed.versions?.['1.0.0']?.dist?.tarball?.endsWith(`/npm/${docName}/-/${docName}-1.0.0.tgz`)) return 'lists no proxied tarball';
          return undefined;
        },
      },
    ];
  },
});
