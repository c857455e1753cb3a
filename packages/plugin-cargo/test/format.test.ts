import { expect } from 'chai';
import type { ArtifactRequest, HostAllowance, LearnedHosts } from '@cacheforge/core';
import { findVersion } from '../src/index-file.js';
import { indexPath, namePrefix } from '../src/index-paths.js';
import { admitHost } from '../src/learned-hosts.js';
import { clientConfig, downloadUrl, parseRegistryConfig } from '../src/registry-config.js';
import { describeRequest } from '../src/url-space.js';

const UPSTREAM = new URL('https://index.crates.io/');

function req(path: string, method: ArtifactRequest['method'] = 'GET'): ArtifactRequest {
  const [p, q] = path.split('?');
  return {
    method, remote: 'crates', path: p!, segments: p!.split('/'), rawPath: p!, search: q ? `?${q}` : '', headers: {},
    publicBase: new URL('http://cache:8080/crates/'),
  };
}

class Recorded implements LearnedHosts {
  readonly asked: string[] = [];
  constructor(private readonly answer: HostAllowance = { allowed: true }) {}
  allow(url: string | URL): HostAllowance { this.asked.push(String(url)); return this.answer; }
}

describe('plugin-cargo: the sparse index format', () => {
  it('index paths are cargo\'s: 1/, 2/, 3/<first>/ and <two>/<two>/, lower case; {prefix} keeps the case', () => {
    expect(['a', 'cc', 'fnv', 'itoa', 'Serde_JSON'].map(indexPath)).to.deep.equal(['1/a', '2/cc', '3/f/fnv', 'it/oa/itoa', 'se/rd/serde_json']);
    expect(namePrefix('Serde')).to.equal('Se/rd');
    expect(namePrefix('Foo')).to.equal('3/F');
  });

  it('download templates are filled as cargo fills them; a dl without markers is a base', () => {
    const crate = { name: 'Serde', version: '1.0.0', cksum: 'ab'.repeat(32) };
    expect(downloadUrl('https://static.crates.io/crates', crate).href).to.equal('https://static.crates.io/crates/Serde/1.0.0/download');
    expect(downloadUrl('https://dl.example/{lowerprefix}/{prefix}/{crate}-{version}.crate', crate).href).to.equal('https://dl.example/se/rd/Se/rd/Serde-1.0.0.crate');
    expect(downloadUrl('https://dl.example/by-sum/{sha256-checksum}', crate).href).to.equal(`https://dl.example/by-sum/${'ab'.repeat(32)}`);
  });

  it('the config.json cargo gets points dl and api here and keeps the upstream\'s other keys, without auth-required', () => {
    const config = parseRegistryConfig(Buffer.from('{"dl":"https://static.crates.io/crates","api":"https://crates.io","auth-required":true,"future":1}'), UPSTREAM);
    expect(config.authRequired).to.equal(true);
    expect(JSON.parse(clientConfig(config, 'http://cache:8080/crates/').toString())).to.deep.equal({
      future: 1, dl: 'http://cache:8080/crates/crates/{crate}/{version}/download', api: 'http://cache:8080/crates',
    });
    const noApi = parseRegistryConfig(Buffer.from('{"dl":"https://x.example/{crate}"}'), UPSTREAM);
    expect(JSON.parse(clientConfig(noApi, 'http://c/r/').toString())).to.not.have.property('api');
  });

  it('a config.json that is not an object or has no dl is the upstream\'s error, named', () => {
    expect(() => parseRegistryConfig(Buffer.from('<html>'), UPSTREAM)).to.throw(/is not a JSON object/);
    expect(() => parseRegistryConfig(Buffer.from('{"api":"x"}'), UPSTREAM)).to.throw(/no "dl"/);
  });

  it('a version\'s cksum is read from its own index line; other names, versions and bad lines are passed over', () => {
    const body = Buffer.from([
      'not json', JSON.stringify({ name: 'fnv', vers: '1.0.6', cksum: 'aa'.repeat(32), yanked: true }),
      JSON.stringify({ name: 'Fnv', vers: '1.0.7', cksum: 'BB'.repeat(32), yanked: false }), '',
    ].join('\n'));
    expect(findVersion(body, 'fnv', '1.0.7')).to.deep.equal({ name: 'Fnv', vers: '1.0.7', cksum: 'bb'.repeat(32), yanked: false });
    expect(findVersion(body, 'fnv', '1.0.6')?.yanked).to.equal(true);
    expect(findVersion(body, 'fnv', '2.0.0')).to.equal(undefined);
    expect(() => findVersion(Buffer.from('{"name":"fnv","vers":"1.0.0","cksum":"12"}'), 'fnv', '1.0.0')).to.throw(/no sha256 cksum/);
  });

  it('requests are classified: index files only at their own path, downloads, search; writes refused by name', () => {
    expect(describeRequest(req('config.json'), UPSTREAM)).to.deep.equal({ kind: 'config' });
    expect(describeRequest(req('3/f/fnv'), UPSTREAM)).to.deep.equal({ kind: 'index', name: 'fnv' });
    expect(describeRequest(req('3/g/fnv'), UPSTREAM)).to.equal(undefined);
    expect(describeRequest(req('3/F/Fnv'), UPSTREAM)).to.equal(undefined);
    expect(describeRequest(req('crates/fnv/1.0.7/download'), UPSTREAM)).to.deep.equal({ kind: 'crate', name: 'fnv', version: '1.0.7' });
    expect(describeRequest(req('crates/fnv/latest/download'), UPSTREAM)).to.equal(undefined);
    expect(describeRequest(req('api/v1/crates?q=fnv'), UPSTREAM)).to.deep.equal({ kind: 'search' });
    const refusals = [
      req('api/v1/crates/new', 'PUT'), req('api/v1/crates/fnv/1.0.7/yank', 'DELETE'), req('api/v1/crates/fnv/1.0.7/unyank', 'PUT'),
      req('api/v1/crates/fnv/owners', 'PUT'), req('api/v1/me'),
    ].map((r) => describeRequest(r, UPSTREAM));
    for (const r of refusals) {
      expect(r?.kind).to.equal('refused');
      expect((r as { reason: string }).reason).to.include('sparse+https://index.crates.io/');
    }
    expect(describeRequest(req('3/f/fnv', 'PUT'), UPSTREAM)).to.equal(undefined);
  });

  it('a host config.json names is learned only when it is the upstream\'s, an allowedHosts entry or the option\'s', () => {
    const rules = { upstream: UPSTREAM, allowedHosts: ['*.mirror.example', 'cdn.example:8443'], named: 'static.crates.io', option: 'downloads' };
    const learned = new Recorded();
    for (const url of ['https://index.crates.io/x', 'https://static.crates.io/crates', 'https://a.mirror.example/', 'https://cdn.example:8443/']) {
      expect(() => admitHost(new URL(url), rules, learned, 'crates'), url).to.not.throw();
    }
    expect(learned.asked).to.have.length(3);
    for (const url of ['https://evil.example/', 'https://cdn.example/', 'http://static.crates.io:8080/', 'https://mirror.example.evil/']) {
      expect(() => admitHost(new URL(url), rules, learned, 'crates'), url).to.throw(/add downloads: /);
    }
    expect(() => admitHost(new URL('https://static.crates.io/'), rules, new Recorded({ allowed: false, reason: 'full' }), 'crates')).to.throw(/may not fetch from static\.crates\.io: full/);
  });
});
