import { expect } from 'chai';
import { FakeUpstream } from '../../src/testing/fake-upstream.js';
import { startCacheForge, type RunningCacheForge } from '../../src/testing/harness.js';
import { request } from '../../src/testing/http.js';
import { OriginPolicy } from '../../src/upstream/hosts.js';
import { parseAllowed, validAllowedEntry } from '../../src/net/host-patterns.js';
import { SelfIdentity } from '../../src/net/self.js';

const SENTINEL = 'S3NT1NEL-api-key-7f3a';
const PASSWORD = 'S3NT1NEL-url-password-91c2';
const SIGNATURE = 'S3NT1NEL-amz-signature-55d0';

function errorOf(res: { body: Buffer }): { code: string; message: string; detail?: { location?: string } } {
  return (JSON.parse(res.body.toString()) as { errors: { code: string; message: string; detail?: { location?: string } }[] }).errors[0]!;
}

describe('upstream: redirect policy by origin', () => {
  describe('OriginPolicy', () => {
    const self = new SelfIdentity([{ host: '0.0.0.0', port: 8080 }]);
    const policy = (upstream: string, allowed: string[] = []) => new OriginPolicy(new URL(upstream), allowed, self);
    const ok = (p: OriginPolicy, target: string) => p.refusal(new URL(target));

    it('allows the upstream\'s own origin only: scheme, host and port', () => {
      const p = policy('https://registry.example/');
      expect(ok(p, 'https://registry.example/a')).to.equal(undefined);
      expect(ok(p, 'https://registry.example:443/a')).to.equal(undefined);
      expect(ok(p, 'https://registry.example:8443/a')).to.contain('neither');
      expect(ok(p, 'http://registry.example/a')).to.contain('neither');
    });

    it('an allowedHosts entry without a port means the scheme\'s default port, host:port names another', () => {
      const p = policy('https://registry.example/', ['cdn.example.com', '*.cloudfront.net', 'files.example:8443', '[::1]:9000']);
      expect(ok(p, 'https://cdn.example.com/x')).to.equal(undefined);
      expect(ok(p, 'http://cdn.example.com/x')).to.equal(undefined);
      expect(ok(p, 'https://cdn.example.com:5432/x')).to.contain('neither');
      expect(ok(p, 'https://d1.cloudfront.net/x')).to.equal(undefined);
      expect(ok(p, 'https://cloudfront.net.evil/x')).to.contain('neither');
      expect(ok(p, 'https://files.example:8443/x')).to.equal(undefined);
      expect(ok(p, 'https://files.example/x')).to.contain('neither');
      expect(parseAllowed('[::1]:9000')).to.deep.equal({ host: '::1', wildcard: false, port: 9000 });
      // The config check refuses what the policy could not read (a URL, a port out of range).
      for (const bad of ['https://cdn.example.com/', 'cdn.example.com:99999', 'user@cdn.example.com']) expect(validAllowedEntry(bad), bad).to.equal(false);
      for (const good of ['cdn.example.com', 'cdn.example.com:443', '*.cloudfront.net', '[::1]:9000']) expect(validAllowedEntry(good), good).to.equal(true);
    });

    it('never the proxy\'s own listen address, whatever name reaches it', () => {
      const p = policy('http://127.0.0.1:9001/', ['127.0.0.1:8080', 'localhost:8080']);
      for (const target of ['http://127.0.0.1:8080/-/metrics', 'http://localhost:8080/', 'http://0.0.0.0:8080/', 'http://[::1]:8080/']) {
        expect(ok(p, target), target).to.contain('own listen address');
      }
      expect(ok(p, 'http://127.0.0.1:9001/fine')).to.equal(undefined);
    });

    it('never loopback when the upstream is not loopback; link-local only by an exact entry', () => {
      const p = policy('https://registry.example/', ['localhost', '*.254.169.254']);
      expect(ok(p, 'http://localhost/')).to.contain('loopback');
      expect(ok(p, 'http://127.0.0.2/')).to.contain('loopback');
      expect(ok(p, 'http://169.254.169.254/latest/meta-data/')).to.contain('link-local');
      expect(ok(p, 'http://[fe80::1]/')).to.contain('link-local');
      expect(ok(policy('https://registry.example/', ['169.254.169.254']), 'http://169.254.169.254/x')).to.equal(undefined);
    });
  });

  describe('through a running Cache Forge', function () {
    this.timeout(20_000);
    let upstream: FakeUpstream;
    let target: FakeUpstream;
    let refused: FakeUpstream;
    let cf: RunningCacheForge;

    before(async () => {
      upstream = await new FakeUpstream().start();
      target = await new FakeUpstream().start();
      refused = await new FakeUpstream().start();
      const withCredentials = new URL(upstream.url);
      withCredentials.username = 'user'; withCredentials.password = PASSWORD;
      cf = await startCacheForge({
        remotes: {
          files: { type: 'generic', upstream: upstream.url, headers: { 'x-api-key': SENTINEL }, allowedHosts: [`127.0.0.1:${new URL(target.url).port}`], client: { retries: 0 } },
          creds: { type: 'generic', upstream: withCredentials.href, client: { retries: 0 } },
        },
      });
    });
    after(async () => { await cf.cleanup(); await upstream.stop(); await target.stop(); await refused.stop(); });

    it('a redirect to the proxy\'s own /-/metrics is refused with 502 CF_ERR_UPSTREAM_REDIRECT and nothing is cached', async () => {
      upstream.set('/self.tar.gz', { redirectTo: `${cf.url}/-/metrics` });
      for (let i = 0; i < 2; i++) {
        const res = await request(`${cf.url}/files/self.tar.gz`);
        expect(res.status).to.equal(502);
        expect(res.headers['x-cache-status']).to.not.equal('HIT');
        expect(errorOf(res).code).to.equal('CF_ERR_UPSTREAM_REDIRECT');
        expect(errorOf(res).message).to.contain('own listen address');
      }
      expect(upstream.count('/self.tar.gz')).to.equal(2);
    });

    it('a redirect to another port on the same host is refused; allowedHosts 127.0.0.1:B allows port B only', async () => {
      upstream.set('/other-port.tar.gz', { redirectTo: `${refused.url}x.tar.gz` });
      const res = await request(`${cf.url}/files/other-port.tar.gz`);
      expect(res.status).to.equal(502);
      expect(errorOf(res).code).to.equal('CF_ERR_UPSTREAM_REDIRECT');
      expect(refused.requests).to.have.length(0);

      target.set('/moved.tar.gz', { body: Buffer.from('moved body') });
      upstream.set('/allowed.tar.gz', { redirectTo: `${target.url}moved.tar.gz` });
      const ok = await request(`${cf.url}/files/allowed.tar.gz`);
      expect(ok.status).to.equal(200);
      expect(ok.body.toString()).to.equal('moved body');
    });

    it('configured headers and credentials reach the upstream but never a redirect target on another origin', async () => {
      target.set('/headers.tar.gz', { body: Buffer.from('h') });
      upstream.set('/headers.tar.gz', { redirectTo: `${target.url}headers.tar.gz` });
      const res = await request(`${cf.url}/files/headers.tar.gz`);
      expect(res.status).to.equal(200);
      const sent = upstream.requests.find((r) => r.path === '/headers.tar.gz')!;
      expect(sent.headers['x-api-key']).to.equal(SENTINEL);
      const received = target.requests.find((r) => r.path === '/headers.tar.gz')!;
      expect(received.headers).to.not.have.property('x-api-key');
      expect(received.headers).to.not.have.property('authorization');
      expect(JSON.stringify(received.headers)).to.not.contain(SENTINEL);
    });

    it('the redirect-refused error names both URLs without credentials or query values', async () => {
      upstream.set('/leak.tar.gz', { redirectTo: `http://u2:${PASSWORD}@${new URL(refused.url).host}/x.tar.gz?X-Amz-Signature=${SIGNATURE}&token=${SIGNATURE}` });
      const res = await request(`${cf.url}/creds/leak.tar.gz`);
      expect(res.status).to.equal(502);
      const error = errorOf(res);
      expect(error.code).to.equal('CF_ERR_UPSTREAM_REDIRECT');
      for (const secret of [PASSWORD, SIGNATURE, 'u2', 'user:']) {
        expect(error.message).to.not.contain(secret);
        expect(error.detail?.location ?? '').to.not.contain(secret);
      }
      expect(error.detail?.location).to.contain('X-Amz-Signature=');
      expect(res.body.toString()).to.not.contain(PASSWORD);
      expect(JSON.stringify(res.headers)).to.not.contain(PASSWORD);
    });

    it('a redirect to the metadata address is refused without a connection', async () => {
      upstream.set('/metadata.tar.gz', { redirectTo: 'http://169.254.169.254/latest/meta-data/' });
      const res = await request(`${cf.url}/files/metadata.tar.gz`);
      expect(res.status).to.equal(502);
      expect(errorOf(res).message).to.contain('link-local');
    });
  });
});
