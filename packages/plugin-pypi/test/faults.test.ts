import { createHash } from 'node:crypto';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { describeFaultMatrix } from '@cacheforge/conformance';
import { bytesFor } from '@cacheforge/core/testing';

const PLUGIN = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');

/** A PEP 503 page listing one wheel, padded with a comment of `size` characters. */
function page(upstream: string, project: string, wheel: Buffer, size: number): Buffer {
  const sha = createHash('sha256').update(wheel).digest('hex');
  return Buffer.from(`<!DOCTYPE html><html><body><!--${'p'.repeat(size)}-->
<a href="${upstream}packages/${project}-1.0-py3-none-any.whl#sha256=${sha}">${project}-1.0-py3-none-any.whl</a>
</body></html>`);
}

describeFaultMatrix({
  name: 'plugin-pypi',
  plugins: [PLUGIN],
  remotes: (upstream) => ({ pypi: { type: 'pypi', upstream, files: upstream } }),
  targets(upstream, id, size) {
    // A wheel (its page healthy) and a page: a miss of a file reads both.
    const project = `w-${id}`;
    const wheel = bytesFor(project, size);
    upstream.set(`/simple/${project}/`, { body: page(upstream.url, project, wheel, 0), headers: { 'content-type': 'text/html' } });
    upstream.set(`/packages/${project}-1.0-py3-none-any.whl`, { body: wheel });
    const listed = `p-${id}`;
    const listedPage = page(upstream.url, listed, bytesFor(listed, 10), size);
    upstream.set(`/simple/${listed}/`, { body: listedPage, headers: { 'content-type': 'text/html' } });
    return [
      { path: `/pypi/files/${project}/packages/${project}-1.0-py3-none-any.whl`, body: wheel, faulty: [`/packages/${project}-1.0-py3-none-any.whl`] },
      {
        path: `/pypi/simple/${listed}/`, body: listedPage, headers: { accept: 'text/html' }, faulty: [`/simple/${listed}/`], mutable: true,
        // The page comes back with its links pointing here: whole means the padding and the link are all there.
        check(received) {
          const text = received.toString();
          if (!text.includes(`<!--${'p'.repeat(size)}-->`)) return 'lost part of the page';
          if (!text.includes(`/pypi/files/${listed}/packages/${listed}-1.0-py3-none-any.whl#sha256=`) || !text.trimEnd().endsWith('</html>')) return 'lost the link or the end of the page';
          return undefined;
        },
      },
    ];
  },
});
