import path from 'node:path';
import { gzipSync } from 'node:zlib';
import { createHash } from 'node:crypto';
import { fileURLToPath } from 'node:url';
import { describeFaultMatrix } from '@cacheforge/conformance';
import { bytesFor } from '@cacheforge/core/testing';
import { packageElement, primaryXml, repomdXml } from './support/synthetic-repo.js';

const PLUGIN = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');

describeFaultMatrix({
  name: 'plugin-rpm',
  plugins: [PLUGIN],
  remotes: (upstream) => ({ fedora: { type: 'rpm', upstream } }),
  targets(upstream, id, size) {
    // A package of its own repository (its metadata healthy), and a repomd.xml: a package's miss reads both.
    const root = `r-${id}/os/`;
    const pkg = { href: `Packages/p/p-${id}-1.0-1.noarch.rpm`, bytes: bytesFor(`rpm-${id}`, size) };
    const primary = gzipSync(primaryXml([packageElement(pkg)], 1));
    const primaryHref = `repodata/${createHash('sha256').update(primary).digest('hex')}-primary.xml.gz`;
    upstream.set(`/${root}repodata/repomd.xml`, { body: repomdXml([{ type: 'primary', href: primaryHref, bytes: primary }]) });
    upstream.set(`/${root}${primaryHref}`, { body: primary });
    upstream.set(`/${root}${pkg.href}`, { body: pkg.bytes });
    const mutableRoot = `m-${id}/os/`;
    const repomd = repomdXml([{ type: 'other', href: 'repodata/other.xml.gz', bytes: bytesFor(`pad-${id}`, size) }]);
    upstream.set(`/${mutableRoot}repodata/repomd.xml`, { body: repomd });
    return [
      { path: `/fedora/${root}${pkg.href}`, body: pkg.bytes, faulty: [`/${root}${pkg.href}`] },
      { path: `/fedora/${mutableRoot}repodata/repomd.xml`, body: repomd, faulty: [`/${mutableRoot}repodata/repomd.xml`], mutable: true },
    ];
  },
});
