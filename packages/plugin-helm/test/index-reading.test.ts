import { expect } from 'chai';
import { gunzipSync } from 'node:zlib';
import { parse } from 'yaml';
import { parseIndex } from '../src/index-parse.js';
import { scanIndex, UnsupportedShape } from '../src/index-scan.js';
import { rewriteIndex } from '../src/rewrite.js';
import { ChartHosts } from '../src/hosts.js';
import { ChartLocations } from '../src/url-space.js';
import { generateIndex } from './support/big-index.js';
import { buildIndex } from '../src/index-build.js';
import { INLINE_MAX, readIndex } from '../src/index-job.js';

/** Entries as plain objects with sorted keys, so two readers' results compare by value. */
const normal = (scan: Awaited<ReturnType<typeof scanIndex>>) => ({
  entries: scan.entries.map((e) => ({ name: e.name, version: e.version, digest: e.digest, urls: [...e.urls] })),
  spans: scan.spans,
});

/** Index texts in the shapes generators write: helm's own, hand-written, quoted, flow-style lists, comments, block scalars. */
const SHAPES: Record<string, string> = {
  'helm repo index': `apiVersion: v1
entries:
  hello:
  - apiVersion: v2
    created: "2024-05-01T10:00:00Z"
    digest: 0123456789012345678901234567890123456789012345678901234567890123
    name: hello
    urls:
    - https://charts.example/stable/hello-0.2.0.tgz
    version: 0.2.0
  - digest: abcdef
    name: hello
    urls:
    - hello-0.1.0.tgz
    version: 0.1.0
generated: "2024-05-01T10:00:00Z"
`,
  'indented lists, quotes, comments, flow urls, block scalars': `# a comment
apiVersion: "v1"
entries:
    "db":   # the database
        -   name: 'db'
            description: |
              urls:
              - not-a-url.tgz
              digest: no
            annotations: {}
            keywords: [a, b]
            maintainers:
              - {name: x, email: y}
            digest: "sha256:00ff"
            urls: [ "https://cdn.example/db-1.0.0.tgz", 'mirror/db-1.0.0.tgz' ]
            version: '1.0.0'
        -   name: db
            urls:
                -   https://cdn.example/db-0.9.0.tgz   # trailing
            version: 0.9.0
    web:
    - name: web
      dependencies:
      - name: db
        repository: https://charts.example/stable/
        version: 1.x
      urls:
      - web-2.0.0.tgz
      version: 2.0.0
generated: 2024-05-01
`,
  'non-ASCII text before the URLs': `apiVersion: v1
entries:
  grüße:
  - description: Ünïcødé — 日本語 ✓
    name: grüße
    urls:
    - https://charts.example/stable/gr%C3%BC%C3%9Fe-1.0.0.tgz
    version: 1.0.0
generated: x
`,
  'an empty repository': 'apiVersion: v1\nentries: {}\ngenerated: x\n',
};

describe('helm: reading index.yaml', () => {
  for (const [shape, text] of Object.entries(SHAPES)) {
    it(`the streaming reader finds what a whole-document parse finds: ${shape}`, async () => {
      const streamed = normal(await scanIndex(text));
      expect(streamed).to.deep.equal(normal(parseIndex(text)));
      for (const span of streamed.spans) expect(parse(text.slice(span.start, span.end))).to.equal(span.value);
    });
  }

  it('the streaming reader gives way to the whole parse for aliases and flow-style entries', async () => {
    const aliased = 'apiVersion: v1\nentries:\n  a:\n  - name: a\n    urls: &u\n    - a.tgz\n  b:\n  - name: b\n    urls: *u\n';
    let error: unknown;
    try { await scanIndex(aliased); } catch (err) { error = err; }
    expect(error).to.be.instanceOf(UnsupportedShape);
    expect(parseIndex(aliased).entries.map((e) => e.urls)).to.deep.equal([['a.tgz'], ['a.tgz']]);
    const flow = 'apiVersion: v1\nentries:\n  a: [{name: a, urls: [a.tgz]}]\n';
    error = undefined;
    try { await scanIndex(flow); } catch (err) { error = err; }
    expect(error).to.be.instanceOf(UnsupportedShape);
  });

  it('a generated index of 2,000 entries reads the same both ways', async () => {
    const text = generateIndex(100, 20, 'https://github.example/');
    expect(normal(await scanIndex(text))).to.deep.equal(normal(parseIndex(text)));
  });

  it('the rewrite changes only the URLs, also past non-ASCII text, and keeps the index valid YAML', async () => {
    const text = SHAPES['non-ASCII text before the URLs']! + SHAPES['helm repo index']!.replace('apiVersion: v1\nentries:\n', '').replace('generated: "2024-05-01T10:00:00Z"\n', '');
    const scan = await scanIndex(text.replace('generated: x\n', ''));
    const body = Buffer.from(text.replace('generated: x\n', ''));
    const out = await rewriteIndex(body, body.toString(), scan.spans, (value) => (value.startsWith('https://') ? `moved/${value.slice(8)}` : undefined));
    const parsed = parse(out!.toString()) as { entries: Record<string, Array<{ urls: string[]; description?: string }>> };
    expect(parsed.entries['grüße']![0]!.urls).to.deep.equal(['moved/charts.example/stable/gr%C3%BC%C3%9Fe-1.0.0.tgz']);
    expect(parsed.entries['grüße']![0]!.description).to.equal('Ünïcødé — 日本語 ✓');
    expect(parsed.entries.hello!.map((e) => e.urls[0])).to.deep.equal(['moved/charts.example/stable/hello-0.2.0.tgz', 'hello-0.1.0.tgz']);
    expect(await rewriteIndex(body, body.toString(), scan.spans, () => undefined)).to.equal(undefined);
  });
});

describe('helm: a big index is read in a worker thread', function () {
  this.timeout(60_000);
  const settings = { upstream: 'https://charts.example/stable/', allowedHosts: ['github.example'], remote: 'stable' };
  const upstream = new URL(settings.upstream);
  const locations = new ChartLocations(upstream, new ChartHosts(upstream, settings.allowedHosts), 'stable');
  const body = Buffer.from(generateIndex(200, 50, 'https://github.example/o/r/'));

  it('gives what reading it on the event loop gives: the rewritten copy, its gzip, the listed archives', async () => {
    expect(body.length).to.be.greaterThan(INLINE_MAX);
    const here = await buildIndex(body, locations);
    // In pieces, as from storage: the first ones are looked at before the worker is chosen.
    const pieces = async function* () { for (let at = 0; at < body.length; at += 65_536) yield body.subarray(at, at + 65_536); };
    const there = await readIndex(pieces(), settings, { maxBytes: 64 * 1024 * 1024, heapMb: 256 });
    expect(there.plain.equals(here.plain)).to.equal(true);
    expect(gunzipSync(there.gzip).equals(here.plain)).to.equal(true);
    expect([...there.listed]).to.deep.equal([...here.listed]);
    expect(there.listed.size).to.equal(10_000);
    expect(there.plain.toString()).to.include('\n    - "-/https/github.example/o/r/releases/download/chart-0-4.9.0/chart-0-4.9.0.tgz"\n');
  });

  it('refuses an index larger than maxIndexBytes, streamed or whole', async () => {
    for (const source of [body, (async function* () { yield body; })()]) {
      const err = await readIndex(source, settings, { maxBytes: INLINE_MAX, heapMb: 256 }).then(() => undefined, (e: Error) => e);
      expect(err?.message).to.match(/larger than 2097152 bytes \(maxIndexBytes\)/);
    }
  });

  it('fails the read, not the process, when the index needs more heap than the worker may have', async () => {
    const err = await readIndex(body, settings, { maxBytes: 64 * 1024 * 1024, heapMb: 1 }).then(() => undefined, (e: Error) => e);
    expect(err?.message).to.match(/index.yaml could not be read/);
  });
});

describe('helm: where chart URLs are pointed', () => {
  const upstream = new URL('https://charts.example/stable/');
  const locations = new ChartLocations(upstream, new ChartHosts(upstream, ['github.example', '*.cdn.example', 'mirror.example:8443']), 'charts');
  const cases: Array<[string, ReturnType<ChartLocations['rewrite']>]> = [
    ['hello-1.0.0.tgz', 'kept'],
    ['charts/hello-1.0.0.tgz', 'kept'],
    ['./hello-1.0.0.tgz', { path: 'hello-1.0.0.tgz' }],
    ['https://charts.example/stable/charts/hello-1.0.0.tgz', { path: 'charts/hello-1.0.0.tgz' }],
    ['../other/hello-1.0.0.tgz', { path: '-/https/charts.example/other/hello-1.0.0.tgz' }],
    ['https://github.example/o/r/releases/download/v1/hello-1.0.0.tgz', { path: '-/https/github.example/o/r/releases/download/v1/hello-1.0.0.tgz' }],
    ['https://objects.cdn.example/hello-1.0.0.tgz', { path: '-/https/objects.cdn.example/hello-1.0.0.tgz' }],
    ['https://mirror.example:8443/hello-1.0.0.tgz', { path: '-/https/mirror.example:8443/hello-1.0.0.tgz' }],
    ['https://mirror.example/hello-1.0.0.tgz', { blockedHost: 'mirror.example' }],
    ['http://charts.example/stable/hello-1.0.0.tgz', { blockedHost: 'charts.example' }],
    ['https://elsewhere.example/hello-1.0.0.tgz', { blockedHost: 'elsewhere.example' }],
    ['https://github.example/hello-1.0.0.tgz?token=x', 'kept'],
    ['oci://registry.example/charts/hello', 'kept'],
  ];
  for (const [value, expected] of cases) {
    it(`${value} → ${JSON.stringify(expected)}`, () => {
      expect(locations.rewrite(value)).to.deep.equal(expected);
    });
  }
});
