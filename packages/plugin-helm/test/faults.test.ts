import { createHash } from 'node:crypto';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { describeFaultMatrix } from '@cacheforge/conformance';
import { bytesFor } from '@cacheforge/core/testing';

const PLUGIN = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');

/** An index listing one chart at `url`, padded with a comment of `size` characters. */
function index(url: string, chart: Buffer, size: number): Buffer {
  const digest = createHash('sha256').update(chart).digest('hex');
  return Buffer.from(`apiVersion: v1\n# ${'p'.repeat(size)}\nentries:\n  c:\n  - name: c\n    version: 1.0.0\n    digest: ${digest}\n    urls:\n    - ${url}\ngenerated: "2024-05-01T10:00:00Z"\n`);
}

// Each case has two remotes of its own (the index is one document per repository): one whose
// chart misbehaves under a healthy index, one whose index misbehaves.
const cases: string[] = [];

describeFaultMatrix({
  name: 'plugin-helm',
  plugins: [PLUGIN],
  remotes: (upstream) => Object.fromEntries(cases.flatMap((id) => [
    [`c-${id}`, { type: 'helm', upstream: `${upstream}c-${id}/` }],
    [`d-${id}`, { type: 'helm', upstream: `${upstream}d-${id}/` }],
  ])),
  targets(upstream, id, size) {
    cases.push(id);
    const chart = bytesFor(`c-${id}`, size);
    upstream.set(`/c-${id}/index.yaml`, { body: index('charts/c-1.0.0.tgz', chart, 0) });
    upstream.set(`/c-${id}/charts/c-1.0.0.tgz`, { body: chart });
    // An absolute URL under the repository: served rewritten relative to the index.
    const doc = index(`${upstream.url}d-${id}/charts/c-1.0.0.tgz`, bytesFor(`d-${id}`, 10), size);
    upstream.set(`/d-${id}/index.yaml`, { body: doc, headers: { 'content-type': 'text/yaml' } });
    return [
      { path: `/c-${id}/charts/c-1.0.0.tgz`, body: chart, faulty: [`/c-${id}/charts/c-1.0.0.tgz`] },
      {
        path: `/d-${id}/index.yaml`, body: doc, faulty: [`/d-${id}/index.yaml`], mutable: true,
        check(received) {
          const text = received.toString();
          if (!text.includes(`# ${'p'.repeat(size)}\n`)) return 'lost part of the index';
          if (!text.includes('    - "charts/c-1.0.0.tgz"\n') || !text.endsWith('generated: "2024-05-01T10:00:00Z"\n')) return 'lost the rewritten URL or the end of the index';
          return undefined;
        },
      },
    ];
  },
});
