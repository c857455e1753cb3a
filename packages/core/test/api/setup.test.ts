import { expect } from 'chai';
import { startCacheForge, type RunningCacheForge } from '../../src/testing/harness.js';
import { FakeUpstream } from '../../src/testing/fake-upstream.js';
import { CheckedApi } from './checked-api.js';

const ADMIN = 'setup-test-admin-token-0123456789abcd';

describe('api: client setup snippets', function () {
  let cf: RunningCacheForge;
  let upstream: FakeUpstream;
  let api: CheckedApi;

  before(async () => {
    upstream = await new FakeUpstream().start();
    upstream.set('/f.txt', { body: Buffer.from('f\n') });
    cf = await startCacheForge({ auth: { anonymousRead: false, adminTokens: [ADMIN] }, remotes: { files: { type: 'generic', upstream: upstream.url } } });
    api = await CheckedApi.open(cf.url);
  });
  after(async () => { await cf?.cleanup(); await upstream?.stop(); });

  it('serves /-/setup as plain text without a token, with a placeholder and never a secret', async () => {
    const res = await fetch(`${cf.url}/-/setup`);
    expect(res.status).to.equal(200);
    expect(res.headers.get('content-type')).to.contain('text/plain');
    const text = await res.text();
    expect(text).to.contain('## files (generic)');
    expect(text).to.contain(`curl -fLO -H 'Authorization: Bearer <TOKEN>' ${cf.url}/files/<path>`);
    expect(text).to.not.contain(ADMIN);
  });

  it('gives one remote\'s snippets as JSON, and the curl line works once the token is put in', async () => {
    const res = await api.call('GET', '/-/api/v1/remotes/files/setup', { token: ADMIN });
    expect(res.status).to.equal(200);
    const body = res.body as { url: string; tokenRequired: boolean; snippets: { client: string; text: string }[] };
    expect(body).to.deep.include({ url: `${cf.url}/files/`, tokenRequired: true });
    const line = body.snippets[0]!.text;
    const header = /-H '([^:]+): ([^']+)'/.exec(line)!;
    const got = await fetch(`${cf.url}/files/f.txt`, { headers: { [header[1]!]: header[2]!.replace('<TOKEN>', ADMIN) } });
    expect(got.status).to.equal(200);
    expect(await got.text()).to.equal('f\n');
  });
});
