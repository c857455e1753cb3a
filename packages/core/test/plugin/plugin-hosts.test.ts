import { expect } from 'chai';
import { withPluginHosts } from '../../src/plugin/plugin-hosts.js';
import { checkContract } from '../../src/plugin/loader.js';
import { UpstreamClient } from '../../src/upstream/client.js';
import { UPSTREAM_DEFAULTS } from '../../src/config/schema.js';
import type { RemoteConfig } from '../../src/config/config.js';
import type { FormatPlugin } from '../../src/contract/index.js';
import { hasCode } from '../../src/errors/errors.js';

const remote: RemoteConfig = {
  name: 'idx', type: 'twohost', upstream: new URL('http://127.0.0.1:9/'), ttl: {}, maxSize: 0,
  allowedHosts: ['mirror.example'], headers: {}, offline: false, client: { ...UPSTREAM_DEFAULTS, retries: 0, connectTimeout: 2000 }, options: { files: 'http://localhost:9/' },
};
const handler = { canHandle: () => undefined, fetch: async () => { throw new Error('unreachable'); } };
const plugin = (upstreamHosts?: FormatPlugin['upstreamHosts']): FormatPlugin => ({ name: 'twohost', core: '^0.1.0', upstreamHosts, createHandler: () => handler });

async function codeOf(promise: Promise<unknown>): Promise<string | undefined> {
  try { await promise; return undefined; } catch (err) { return (err as { code?: string }).code; }
}

describe('plugin upstream hosts (a format whose files live on a second host)', () => {
  it('adds the hosts a plugin derives from its options to the remote\'s allowed hosts', () => {
    const merged = withPluginHosts(remote, plugin((r) => [new URL(String(r.options.files)).host]), 'twohost');
    expect(merged.allowedHosts).to.deep.equal(['mirror.example', 'localhost:9']);
    expect(remote.allowedHosts).to.deep.equal(['mirror.example'], 'the configured remote is left as it was');
    expect(withPluginHosts(remote, plugin(), 'twohost')).to.equal(remote);
    expect(withPluginHosts(remote, plugin(() => ['127.0.0.1:9', 'mirror.example']), 'twohost')).to.equal(remote, 'nothing new to add');
  });

  it('lets the upstream client fetch from a declared host, and still refuses any other', async () => {
    const refused = new UpstreamClient(remote);
    expect(await codeOf(refused.request({ url: new URL('http://localhost:9/x.whl'), method: 'GET' }))).to.equal('CF_ERR_UPSTREAM_REDIRECT');
    refused.close();
    // A host without a port means the scheme's default: port 9 stays refused until it is named.
    const defaultPort = new UpstreamClient(withPluginHosts(remote, plugin(() => ['localhost']), 'twohost'));
    expect(await codeOf(defaultPort.request({ url: new URL('http://localhost:9/x.whl'), method: 'GET' }))).to.equal('CF_ERR_UPSTREAM_REDIRECT');
    defaultPort.close();
    const client = new UpstreamClient(withPluginHosts(remote, plugin(() => ['localhost:9']), 'twohost'));
    // Allowed now: the request goes out (and fails to connect to the discard port, which is the point).
    expect(await codeOf(client.request({ url: new URL('http://localhost:9/x.whl'), method: 'GET' }))).to.equal('CF_ERR_UPSTREAM_UNAVAILABLE');
    expect(await codeOf(client.request({ url: new URL('http://elsewhere.example/x.whl'), method: 'GET' }))).to.equal('CF_ERR_UPSTREAM_REDIRECT');
    client.close();
  });

  it('a plugin whose upstreamHosts throws or returns no list stops the start with a coded error', () => {
    const thrown = (() => { try { withPluginHosts(remote, plugin(() => { throw new Error('bad files URL'); }), 'twohost'); } catch (err) { return err; } })();
    expect(hasCode(thrown, 'CF_ERR_PLUGIN_FAILED')).to.equal(true);
    expect((thrown as Error).message).to.contain('bad files URL').and.to.contain('idx');
    const wrong = (() => { try { withPluginHosts(remote, plugin(() => 'localhost' as never), 'twohost'); } catch (err) { return err; } })();
    expect(hasCode(wrong, 'CF_ERR_PLUGIN_CONTRACT')).to.equal(true);
    expect(() => checkContract({ ...plugin(), upstreamHosts: ['localhost'] }, 'twohost')).to.throw(/upstreamHosts/);
  });
});
