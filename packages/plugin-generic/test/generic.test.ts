import { expect } from 'chai';
import plugin from '../src/index.js';
import type { ArtifactRequest, CachedRoute, FetchContext, UpstreamRequest } from '@cacheforge/core';
import { checkContract, classify, remoteConfig } from '@cacheforge/core/testing';

const remote = remoteConfig({ name: 'apache', type: 'generic', upstream: new URL('https://archive.example/dist/') });
const silent = { trace() {}, debug() {}, info() {}, warn() {}, error() {}, fatal() {}, child() { return silent; }, level: 'silent' } as never;

function request(rawPath: string, search = ''): ArtifactRequest {
  return {
    method: 'GET', remote: 'apache', path: decodeURIComponent(rawPath), segments: rawPath.split('/'), rawPath, search,
    headers: {}, publicBase: new URL('http://cache.local/apache/'),
  };
}

describe('plugin-generic', () => {
  it('satisfies the plugin contract of this core', () => {
    expect(() => checkContract(plugin, '@cacheforge/plugin-generic')).to.not.throw();
    expect(plugin.name).to.equal('generic');
  });

  it('classes archives, packages and images as immutable; checksums, signatures and indexes as mutable', () => {
    for (const path of ['hadoop/hadoop-3.4.0.tar.gz', 'x/app.zip', 'debs/tool_1.0_amd64.deb', 'iso/debian-12.iso', 'lib/a.jar', 'w/pkg-1.0-py3-none-any.whl']) {
      expect(classify(plugin, path, remote).class, path).to.equal('immutable');
    }
    for (const path of ['hadoop/hadoop-3.4.0.tar.gz.sha512', 'hadoop/hadoop-3.4.0.tar.gz.asc', 'SHA256SUMS', 'hadoop/', '', 'latest.json', 'README']) {
      expect(classify(plugin, path, remote).class, path).to.equal('mutable');
    }
  });

  it('keys a file by its path and query, and asks the upstream under the remote base URL', async () => {
    const handler = plugin.createHandler({ name: 'apache', upstream: remote.upstream, options: {} }, { log: silent });
    const req = request('hadoop/common/hadoop-3.4.0.tar.gz', '?mirror=1');
    const route = handler.canHandle(req) as CachedRoute;
    expect(route).to.deep.equal({ kind: 'cached', key: 'hadoop/common/hadoop-3.4.0.tar.gz?mirror=1' });
    let asked: UpstreamRequest | undefined;
    const ctx = { log: silent, pipeline: { serve: async (_r: unknown, _route: unknown, upstream: UpstreamRequest) => { asked = upstream; return { status: 200, cacheStatus: 'MISS' }; } } } as unknown as FetchContext;
    await handler.fetch(req, route, ctx);
    expect(String(asked!.url)).to.equal('https://archive.example/dist/hadoop/common/hadoop-3.4.0.tar.gz?mirror=1');
  });

  it('never lets a path that looks like a URL scheme escape the upstream', async () => {
    const handler = plugin.createHandler({ name: 'apache', upstream: remote.upstream, options: {} }, { log: silent });
    const req = request('javascript:alert(1)');
    let asked: UpstreamRequest | undefined;
    const ctx = { log: silent, pipeline: { serve: async (_r: unknown, _route: unknown, upstream: UpstreamRequest) => { asked = upstream; return { status: 200, cacheStatus: 'MISS' }; } } } as unknown as FetchContext;
    await handler.fetch(req, handler.canHandle(req) as CachedRoute, ctx);
    expect(new URL(String(asked!.url)).origin).to.equal('https://archive.example');
    expect(String(asked!.url)).to.equal('https://archive.example/dist/javascript:alert(1)');
  });
});
