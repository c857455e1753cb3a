import { expect } from 'chai';
import { OriginPolicy } from '../../src/upstream/hosts.js';
import { RemoteLearnedHosts, MAX_LEARNED_HOSTS } from '../../src/upstream/learned-hosts.js';
import { SelfIdentity } from '../../src/net/self.js';

describe('upstream: hosts a remote learns', () => {
  const self = new SelfIdentity([{ host: '0.0.0.0', port: 8080 }]);
  const setup = (upstream: string, allowed: string[] = []) => {
    const policy = new OriginPolicy(new URL(upstream), allowed, self);
    const learned: string[] = [];
    return { policy, learned, hosts: new RemoteLearnedHosts(policy, 'crates', (host) => learned.push(host)) };
  };
  const refusal = (policy: OriginPolicy, target: string) => policy.refusal(new URL(target));

  it('a URL allows its host on its own scheme\'s port; a bare host allows the default ports, or the one it names', () => {
    const { policy, hosts, learned } = setup('https://index.example.org/');
    expect(hosts.allow('https://static.example.net/crates')).to.deep.equal({ allowed: true });
    expect(refusal(policy, 'https://static.example.net/crates/serde/1.0.0/download')).to.equal(undefined);
    expect(refusal(policy, 'https://static.example.net:8443/x')).to.contain('neither');
    expect(hosts.allow(new URL('http://plain.example.net:8080/dl'))).to.deep.equal({ allowed: true });
    expect(refusal(policy, 'http://plain.example.net:8080/x')).to.equal(undefined);
    expect(hosts.allow('files.example.net')).to.deep.equal({ allowed: true });
    expect(refusal(policy, 'http://files.example.net/x')).to.equal(undefined);
    expect(refusal(policy, 'https://files.example.net/x')).to.equal(undefined);
    expect(hosts.allow('[2001:db8::1]:9000')).to.deep.equal({ allowed: true });
    expect(refusal(policy, 'https://[2001:db8::1]:9000/x')).to.equal(undefined);
    expect(learned).to.deep.equal(['https://static.example.net', 'http://plain.example.net:8080', 'files.example.net', '[2001:db8::1]:9000']);
  });

  it('counts nothing for a host the remote may contact already, and reports each learned host once', () => {
    const { policy, hosts, learned } = setup('https://index.example.org/', ['*.cdn.example.com']);
    expect(hosts.allow('https://index.example.org/api/v1/crates')).to.deep.equal({ allowed: true });
    expect(hosts.allow('https://a.cdn.example.com/x')).to.deep.equal({ allowed: true });
    expect(hosts.allow('https://static.example.net/')).to.deep.equal({ allowed: true });
    expect(hosts.allow('https://static.example.net/other')).to.deep.equal({ allowed: true });
    expect(learned).to.deep.equal(['https://static.example.net']);
    expect(policy.learnedCount).to.equal(1);
  });

  it('gives the configured headers to the upstream and its configured entries only', () => {
    const { policy, hosts } = setup('https://index.example.org/', ['files.example.com']);
    hosts.allow('https://static.example.net/');
    expect(policy.credentialed(new URL('https://index.example.org/config.json'))).to.equal(true);
    expect(policy.credentialed(new URL('https://files.example.com/a'))).to.equal(true);
    expect(policy.credentialed(new URL('https://static.example.net/a'))).to.equal(false);
  });

  it('refuses other schemes, patterns, link-local, loopback from a public upstream, and this instance', () => {
    const { hosts, policy } = setup('https://index.example.org/');
    const reasons = ['ftp://files.example.net/', '*.example.net', '169.254.169.254', 'http://[fe80::1]/', '127.0.0.1', 'http://localhost:3000/',
      '0.0.0.0', 'a host/with a path', 'http://']
      .map((target) => { const answer = hosts.allow(target); expect(answer.allowed, target).to.equal(false); return (answer as { reason: string }).reason; });
    expect(reasons[0]).to.contain('not http or https');
    expect(reasons[1]).to.contain('pattern');
    expect(reasons[2]).to.contain('link-local');
    expect(reasons[3]).to.contain('link-local');
    expect(reasons[4]).to.contain('loopback');
    expect(hosts.allow(undefined as unknown as string)).to.deep.equal({ allowed: false, reason: 'undefined is neither a URL nor a host name' });
    expect(policy.learnedCount).to.equal(0);

    const local = setup('http://127.0.0.1:9000/');
    expect(local.hosts.allow('127.0.0.1:9001')).to.deep.equal({ allowed: true });
    const own = local.hosts.allow('http://127.0.0.1:8080/');
    expect(own.allowed).to.equal(false);
    expect((own as { reason: string }).reason).to.contain('own listen address');
    // An exact configured entry is what allows a link-local address; learning one never does.
    const metadata = setup('https://index.example.org/', ['169.254.169.254']);
    expect(metadata.hosts.allow('169.254.169.254')).to.deep.equal({ allowed: true });
    expect(metadata.policy.learnedCount).to.equal(0);
  });

  it(`learns at most ${MAX_LEARNED_HOSTS} hosts`, () => {
    const { hosts, policy } = setup('https://index.example.org/');
    for (let i = 0; i < MAX_LEARNED_HOSTS; i++) expect(hosts.allow(`dl-${i}.example.net`)).to.deep.equal({ allowed: true });
    const beyond = hosts.allow('one-more.example.net');
    expect(beyond.allowed).to.equal(false);
    expect((beyond as { reason: string }).reason).to.contain(`remote crates has learned ${MAX_LEARNED_HOSTS} hosts already`).and.contain('one-more.example.net');
    expect(refusal(policy, 'https://one-more.example.net/')).to.contain('neither');
    expect(hosts.allow('dl-3.example.net')).to.deep.equal({ allowed: true });
  });
});
