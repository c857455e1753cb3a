import { expect } from 'chai';
import plugin from '../src/index.js';
import { loadConfig, EMBEDDED_DEFAULTS, type ArtifactRequest } from '@cacheforge/core';
import { checkContract, classify, remoteConfig, withPluginHosts } from '@cacheforge/core/testing';
import { normalizeName } from '../src/names.js';
import { negotiateFormat } from '../src/negotiate.js';
import { parsePath } from '../src/paths.js';
import { filesOfHtml, rewriteHtml } from '../src/html-page.js';
import { filesOfJson, parseJsonDocument, rewriteSimpleJson } from '../src/json-page.js';
import { rewriteJsonApi } from '../src/json-api.js';
import { FileLocations } from '../src/file-locations.js';
import { expectedDigest } from '../src/index-file.js';
import { fileURLToPath } from 'node:url';
import path from 'node:path';

const WORKSPACE = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../..');

const PIP_ACCEPT = 'application/vnd.pypi.simple.v1+json, application/vnd.pypi.simple.v1+html; q=0.1, text/html; q=0.01';

function req(rawPath: string, search = ''): ArtifactRequest {
  return {
    method: 'GET', remote: 'pypi', path: decodeURIComponent(rawPath), segments: rawPath.split('/').map(decodeURIComponent), rawPath, search,
    headers: {}, publicBase: new URL('http://cache.local/pypi/'),
  };
}

/** PyPI's layout: pages on pypi.org, files on files.pythonhosted.org. */
const pypi = new FileLocations({
  upstream: new URL('https://pypi.org/'), index: new URL('https://pypi.org/simple/'), files: new URL('https://files.pythonhosted.org/'),
});
const base = 'http://cache.local/pypi/';
const mapFor = (project?: string) => (url: URL) => {
  const hash = url.hash;
  url.hash = '';
  const p = pypi.proxyPath(url, project);
  return p === undefined ? undefined : base + p + hash;
};

describe('plugin-pypi: the format', () => {
  it('satisfies the plugin contract, declares the PyPI default remote and its file host', async () => {
    expect(() => checkContract(plugin, '@cacheforge/plugin-pypi')).to.not.throw();
    expect(plugin.name).to.equal('pypi');
    const defaults = await plugin.defaultRemotes!({ env: {}, log: undefined as never });
    expect(defaults).to.deep.equal({ pypi: { upstream: 'https://pypi.org/', files: 'https://files.pythonhosted.org/' } });
    const remote = { name: 'pypi', upstream: new URL('https://pypi.org/'), options: { files: 'https://files.pythonhosted.org', indexPath: 'simple/' } };
    expect(plugin.upstreamHosts!(remote)).to.deep.equal(['files.pythonhosted.org']);
    expect(plugin.upstreamHosts!({ ...remote, options: { indexPath: 'simple/' } })).to.deep.equal([]);
  });

  it('with no config file, the workspace serves PyPI at /pypi/, its file host allowed', async () => {
    const { config, plugins } = await loadConfig({ cwd: WORKSPACE, env: {} });
    expect(config.source).to.equal(EMBEDDED_DEFAULTS);
    const pypi = config.remotes.pypi!;
    expect(pypi.type).to.equal('pypi');
    expect(pypi.upstream.href).to.equal('https://pypi.org/');
    expect(pypi.options).to.deep.equal({ files: 'https://files.pythonhosted.org/', indexPath: 'simple/' });
    const loaded = plugins.get('pypi')!;
    expect(withPluginHosts(pypi, loaded.plugin, loaded.specifier).allowedHosts).to.deep.equal(['files.pythonhosted.org']);
  });

  it('classes files and metadata as immutable, pages and the JSON API as mutable', () => {
    const remote = remoteConfig({ name: 'pypi', type: 'pypi', upstream: new URL('https://pypi.org/') });
    const classOf = (path: string) => classify(plugin, path, remote);
    expect(classOf('files/wheel/packages/a/b/c/wheel-0.38.4-py3-none-any.whl').class).to.equal('immutable');
    expect(classOf('files/wheel/packages/a/b/c/wheel-0.38.4-py3-none-any.whl.metadata').class).to.equal('immutable');
    expect(classOf('simple/wheel/').class).to.equal('mutable');
    expect(classOf('pypi/wheel/json').class).to.equal('mutable');
    expect(classOf('simple/wheel/').ttl).to.equal(10 * 60_000);
  });

  it('normalizes project names as PEP 503 does', () => {
    expect(normalizeName('Foo.Bar__baz')).to.equal('foo-bar-baz');
    expect(normalizeName('Set_UpTools')).to.equal('set-uptools');
    expect(normalizeName('zope.interface')).to.equal('zope-interface');
    expect(normalizeName('a-_.-b')).to.equal('a-b');
  });

  it('negotiates JSON or HTML as PEP 691 describes, HTML by default', () => {
    expect(negotiateFormat(PIP_ACCEPT, '')).to.equal('json');
    expect(negotiateFormat('application/vnd.pypi.simple.latest+json', '')).to.equal('json');
    expect(negotiateFormat('text/html', '')).to.equal('html');
    expect(negotiateFormat(undefined, '')).to.equal('html');
    expect(negotiateFormat('*/*', '')).to.equal('html');
    expect(negotiateFormat('application/vnd.pypi.simple.v1+json;q=0, text/html', '')).to.equal('html');
    expect(negotiateFormat('application/vnd.pypi.simple.v1+json;q=0.2, application/vnd.pypi.simple.v1+html', '')).to.equal('html');
    expect(negotiateFormat('text/html', '?format=application/vnd.pypi.simple.v1+json')).to.equal('json');
    expect(negotiateFormat(PIP_ACCEPT, '?format=text%2Fhtml')).to.equal('html');
  });

  it('maps the URL space: pages, redirects for names that are not normalized, files, metadata, the JSON API', () => {
    expect(parsePath(req('simple/'))).to.deep.equal({ kind: 'root' });
    expect(parsePath(req('simple'))).to.deep.equal({ kind: 'redirect', location: 'simple/' });
    expect(parsePath(req('simple/wheel/'))).to.deep.equal({ kind: 'project', project: 'wheel' });
    expect(parsePath(req('simple/Django/'))).to.deep.equal({ kind: 'redirect', location: 'simple/django/' });
    expect(parsePath(req('simple/zope.interface'))).to.deep.equal({ kind: 'redirect', location: 'simple/zope-interface/' });
    expect(parsePath(req('simple/wheel/extra'))).to.equal(undefined);
    expect(parsePath(req('simple/-bad-/'))).to.equal(undefined);
    expect(parsePath(req('files/wheel/packages/ab/cd/ef/wheel-0.38.4-py3-none-any.whl'))).to.deep.equal({
      kind: 'file', host: 'files', project: 'wheel', rest: 'packages/ab/cd/ef/wheel-0.38.4-py3-none-any.whl', metadata: false,
    });
    expect(parsePath(req('files/wheel/a%20b/x-1.0.tar.gz'))).to.include({ rest: 'a%20b/x-1.0.tar.gz' });
    expect(parsePath(req('index-files/wheel/packages/x.whl.metadata'))).to.include({ host: 'index-files', metadata: true });
    expect(parsePath(req('files/Wheel/x.whl')), 'project in a file path must be normalized').to.equal(undefined);
    expect(parsePath(req('files/wheel/'))).to.equal(undefined);
    expect(parsePath(req('pypi/wheel/json'))).to.deep.equal({ kind: 'json-api', project: 'wheel', version: undefined });
    expect(parsePath(req('pypi/wheel/0.38.4/json'))).to.deep.equal({ kind: 'json-api', project: 'wheel', version: '0.38.4' });
    expect(parsePath(req('pypi/Wheel/0.38.4/json'))).to.deep.equal({ kind: 'redirect', location: 'pypi/wheel/0.38.4/json' });
    expect(parsePath(req('packages/x.whl'))).to.equal(undefined);
    expect(parsePath(req(''))).to.equal(undefined);
  });

  it('rewrites every anchor of an HTML page, relative or absolute, keeping fragments and all other attributes', () => {
    const page = '<!DOCTYPE html><html><body>\n'
      + '<a href="https://files.pythonhosted.org/packages/aa/bb/cc/wheel-0.38.4-py3-none-any.whl#sha256=abc" data-requires-python="&gt;=3.7" data-dist-info-metadata="sha256=def" data-core-metadata="sha256=def">wheel-0.38.4-py3-none-any.whl</a><br/>\n'
      + "<a data-yanked='' href='../../packages/wheel-0.1.tar.gz#md5=123'>wheel-0.1.tar.gz</a>\n"
      + '<A HREF=https://elsewhere.example/wheel-0.2.tar.gz>other host</A>\n'
      + '<a href="https://files.pythonhosted.org/packages/x/wheel-0.3.tar.gz?a=1&amp;b=2#sha256=f00">query</a>\n'
      + '</body></html>\n';
    const pageUrl = new URL('https://pypi.org/simple/wheel/');
    const out = rewriteHtml(page, pageUrl, mapFor('wheel'));
    expect(out).to.contain('<a href="http://cache.local/pypi/files/wheel/packages/aa/bb/cc/wheel-0.38.4-py3-none-any.whl#sha256=abc" data-requires-python="&gt;=3.7" data-dist-info-metadata="sha256=def" data-core-metadata="sha256=def">');
    // Relative to the page: a file beside the pages, on the index host.
    expect(out).to.contain("href='http://cache.local/pypi/index-files/wheel/packages/wheel-0.1.tar.gz#md5=123'");
    expect(out).to.contain('<A HREF=https://elsewhere.example/wheel-0.2.tar.gz>', 'a host this remote does not serve is left alone');
    expect(out).to.contain('href="http://cache.local/pypi/files/wheel/packages/x/wheel-0.3.tar.gz?a=1&amp;b=2#sha256=f00"');
    expect(out.length - page.length).to.be.greaterThan(0);
    const files = filesOfHtml(page, pageUrl);
    expect(files[0]).to.deep.equal({ url: 'https://files.pythonhosted.org/packages/aa/bb/cc/wheel-0.38.4-py3-none-any.whl', hashes: { sha256: 'abc' }, metadata: { sha256: 'def' } });
    expect(files[1]).to.deep.equal({ url: 'https://pypi.org/packages/wheel-0.1.tar.gz', hashes: { md5: '123' }, metadata: undefined });
    expect(files[3]!.url).to.equal('https://files.pythonhosted.org/packages/x/wheel-0.3.tar.gz?a=1&b=2');
  });

  it('resolves links against <base href>, which is rewritten too, and maps the project list (absolute paths, as PyPI gives them) under this remote', () => {
    const root = '<html><head><base href="https://pypi.org/simple/"></head><body><a href="/simple/wheel/">wheel</a><a href="pip/">pip</a></body></html>';
    const out = rewriteHtml(root, new URL('https://pypi.org/simple/'), mapFor(undefined));
    expect(out).to.equal('<html><head><base href="http://cache.local/pypi/simple/"></head><body><a href="http://cache.local/pypi/simple/wheel/">wheel</a><a href="http://cache.local/pypi/simple/pip/">pip</a></body></html>');
  });

  it('rewrites the url of each file of a JSON page and keeps every other key', () => {
    const doc = parseJsonDocument(JSON.stringify({
      meta: { 'api-version': '1.1' }, name: 'wheel', versions: ['0.38.4'],
      files: [{ filename: 'wheel-0.38.4-py3-none-any.whl', url: 'https://files.pythonhosted.org/packages/a/wheel-0.38.4-py3-none-any.whl', hashes: { sha256: 'ABC' },
        'requires-python': '>=3.7', yanked: 'bad', 'core-metadata': { sha256: 'def' }, size: 1, 'upload-time': '2022-01-01T00:00:00Z' }],
    }), 'test');
    const pageUrl = new URL('https://pypi.org/simple/wheel/');
    expect(filesOfJson(doc, pageUrl)).to.deep.equal([{ url: 'https://files.pythonhosted.org/packages/a/wheel-0.38.4-py3-none-any.whl', hashes: { sha256: 'ABC' }, metadata: { sha256: 'def' } }]);
    const out = rewriteSimpleJson(doc, pageUrl, mapFor('wheel')) as { files: Array<Record<string, unknown>> };
    expect(out.files[0]).to.deep.include({ url: 'http://cache.local/pypi/files/wheel/packages/a/wheel-0.38.4-py3-none-any.whl', yanked: 'bad', 'requires-python': '>=3.7', size: 1 });
    expect(expectedDigest({ sha256: 'ABC' })).to.deep.equal({ algorithm: 'sha256', hex: 'abc' });
    expect(expectedDigest({ md5: '123' })).to.equal(undefined);
  });

  it('rewrites the JSON API: the shown version\'s urls and every release', () => {
    const doc = rewriteJsonApi({
      info: { name: 'wheel' },
      urls: [{ url: 'https://files.pythonhosted.org/packages/a/wheel-0.38.4.tar.gz', digests: { sha256: 'x' } }],
      releases: { '0.38.4': [{ url: 'https://files.pythonhosted.org/packages/a/wheel-0.38.4.tar.gz' }], '0.1': [] },
    }, new URL('https://pypi.org/pypi/wheel/json'), mapFor('wheel')) as { urls: Array<{ url: string }>; releases: Record<string, Array<{ url: string }>> };
    expect(doc.urls[0]!.url).to.equal('http://cache.local/pypi/files/wheel/packages/a/wheel-0.38.4.tar.gz');
    expect(doc.releases['0.38.4']![0]!.url).to.equal('http://cache.local/pypi/files/wheel/packages/a/wheel-0.38.4.tar.gz');
  });

  it('says which upstream document is malformed', () => {
    expect(() => parseJsonDocument('{"files": [', 'https://pypi.org/simple/x/')).to.throw(/https:\/\/pypi\.org\/simple\/x\/ is not valid JSON/)
      .with.property('code', 'CF_ERR_UPSTREAM_INVALID');
    expect(() => parseJsonDocument('[1]', 'doc')).to.throw(/not a JSON object/);
  });
});
