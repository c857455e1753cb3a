import { expect } from 'chai';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import plugin from '../src/index.js';
import { checkContract } from '@cacheforge/core/testing';
import { loadConfig } from '@cacheforge/core';
import { parseRegistryPath, upstreamName } from '../src/reference.js';
import { acceptedManifestTypes } from '../src/media-types.js';
import { parseChallenges } from '../src/challenge.js';
import { registryMount } from '../src/mount.js';
import { ociErrorCode } from '../src/errors.js';
import { relativeLink } from '../src/handler.js';
import type { RemoteDefinition } from '@cacheforge/core';

const D = `sha256:${'a'.repeat(64)}`;

function remote(name: string, upstream: string, options: Record<string, unknown> = {}): RemoteDefinition<Record<string, unknown>> {
  return { name, upstream: new URL(upstream), options: { default: false, aliases: [], libraryPrefix: false, ...options } };
}

describe('plugin-docker: unit', () => {
  it('satisfies the plugin contract of this core', () => {
    expect(() => checkContract(plugin, '@cacheforge/plugin-docker')).to.not.throw();
    expect(plugin.name).to.equal('docker');
    expect(plugin.mount?.prefix).to.equal('/v2/');
  });

  it('reads the registry API paths by the spec grammar, and nothing else', () => {
    expect(parseRegistryPath('library/busybox/manifests/latest'.split('/'))).to.deep.include({ kind: 'manifest', name: 'library/busybox', reference: 'latest' });
    expect(parseRegistryPath(`a/b/c/manifests/${D}`.split('/'))).to.deep.include({ kind: 'manifest', name: 'a/b/c', reference: D });
    expect(parseRegistryPath(`busybox/blobs/${D}`.split('/'))).to.deep.include({ kind: 'blob', name: 'busybox' });
    expect(parseRegistryPath('x/tags/list'.split('/'))).to.deep.equal({ kind: 'tags', name: 'x' });
    expect(parseRegistryPath(`x/referrers/${D}`.split('/'))).to.deep.include({ kind: 'referrers', name: 'x' });
    for (const bad of ['Upper/manifests/1', 'x/manifests/-tag', 'x/blobs/latest', 'x/blobs/sha256:abc', 'manifests/1', 'x/tags/all', 'x/uploads/1', 'a//b/manifests/1', 'x/referrers/latest']) {
      expect(parseRegistryPath(bad.split('/')), bad).to.equal(undefined);
    }
    expect(upstreamName('busybox', true)).to.equal('library/busybox');
    expect(upstreamName('bitnami/redis', true)).to.equal('bitnami/redis');
    expect(upstreamName('busybox', false)).to.equal('busybox');
  });

  it('normalizes Accept into one variant per set of manifest types, whatever the order, case or parameters', () => {
    const a = acceptedManifestTypes('application/vnd.oci.image.index.v1+json, application/vnd.docker.distribution.manifest.v2+json;q=0.9');
    const b = acceptedManifestTypes(['Application/vnd.docker.distribution.manifest.v2+json', 'application/vnd.oci.image.index.v1+json', 'text/html']);
    expect(a).to.deep.equal(b);
    expect(a).to.deep.equal(['application/vnd.docker.distribution.manifest.v2+json', 'application/vnd.oci.image.index.v1+json']);
    expect(acceptedManifestTypes(undefined)).to.deep.equal([]);
    // Taking anything is no preference: asked upstream with every type, stored as the no-Accept variant.
    expect(acceptedManifestTypes('*/*')).to.deep.equal([]);
    expect(acceptedManifestTypes('application/vnd.docker.distribution.manifest.v2+json, */*;q=0.5')).to.deep.equal([]);
  });

  it('parses WWW-Authenticate challenges with quoted commas', () => {
    expect(parseChallenges('Bearer realm="https://auth.docker.io/token",service="registry.docker.io",scope="repository:library/busybox:pull,push"')).to.deep.equal([
      { scheme: 'bearer', params: { realm: 'https://auth.docker.io/token', service: 'registry.docker.io', scope: 'repository:library/busybox:pull,push' } },
    ]);
    expect(parseChallenges('Basic realm="Registry Realm"')).to.deep.equal([{ scheme: 'basic', params: { realm: 'Registry Realm' } }]);
  });

  it('routes /v2/ requests: ping, remote named by the path, by ?ns= host or alias, else the default remote', () => {
    const remotes = [
      remote('hub', 'https://registry-1.docker.io/', { aliases: ['docker.io'], default: true }),
      remote('ghcr', 'https://ghcr.io/'),
    ];
    const route = (rawPath: string, search = '') => registryMount.route({ method: 'GET', rawPath, query: new URLSearchParams(search), headers: {} }, remotes);
    expect(route('')).to.deep.include({ kind: 'answer', status: 200 });
    expect(route('ghcr/owner/app/manifests/1')).to.deep.equal({ kind: 'remote', remote: 'ghcr', rawPath: 'owner/app/manifests/1' });
    expect(route('owner/app/manifests/1', 'ns=ghcr.io')).to.deep.equal({ kind: 'remote', remote: 'ghcr', rawPath: 'owner/app/manifests/1', headers: { 'oci-namespace': 'ghcr.io' } });
    expect(route('library/busybox/manifests/1', 'ns=docker.io')).to.deep.equal({ kind: 'remote', remote: 'hub', rawPath: 'library/busybox/manifests/1', headers: { 'oci-namespace': 'docker.io' } });
    expect(route('ghcr/x/manifests/1', 'ns=docker.io'), 'a path prefix wins over ns').to.deep.include({ remote: 'ghcr' });
    expect(route('library/busybox/manifests/1')).to.deep.equal({ kind: 'remote', remote: 'hub', rawPath: 'library/busybox/manifests/1' });
    expect(route('x/manifests/1', 'ns=quay.io').kind, 'an unmirrored registry is not sent to the default').to.equal('unknown');
    expect(registryMount.route({ method: 'GET', rawPath: 'x/manifests/1', query: new URLSearchParams(), headers: {} }, [remotes[1]!]).kind).to.equal('unknown');
  });

  it('maps Cache Forge errors to OCI codes by what was asked for', () => {
    const e = (code: string, detail?: Record<string, unknown>) => ({ code, status: 0, message: '', detail });
    expect(ociErrorCode(e('CF_ERR_UPSTREAM_NOT_FOUND'), '/v2/hub/x/manifests/1')).to.equal('MANIFEST_UNKNOWN');
    expect(ociErrorCode(e('CF_ERR_UPSTREAM_NOT_FOUND'), `/v2/hub/x/blobs/${D}`)).to.equal('BLOB_UNKNOWN');
    expect(ociErrorCode(e('CF_ERR_UPSTREAM_NOT_FOUND'), '/v2/hub/x/tags/list')).to.equal('NAME_UNKNOWN');
    expect(ociErrorCode(e('CF_ERR_REQUEST_METHOD'), '/v2/hub/x/blobs/uploads/')).to.equal('UNSUPPORTED');
    expect(ociErrorCode(e('CF_ERR_UPSTREAM_RATE_LIMITED'), '/v2/hub/x/manifests/1')).to.equal('TOOMANYREQUESTS');
    expect(ociErrorCode(e('CF_ERR_UPSTREAM_DENIED', { upstreamStatus: 401 }), '/v2/hub/x/manifests/1')).to.equal('UNAUTHORIZED');
    expect(ociErrorCode(e('CF_ERR_UPSTREAM_DENIED', { upstreamStatus: 403 }), '/v2/hub/x/manifests/1')).to.equal('DENIED');
    expect(ociErrorCode(e('CF_ERR_UPSTREAM_UNAVAILABLE'), '/v2/hub/x/manifests/1')).to.equal('UNKNOWN');
  });

  it('keeps a tag list\'s next-page link under the mirror (query-only reference)', () => {
    expect(relativeLink('</v2/library/busybox/tags/list?last=1.36&n=100>; rel="next"')).to.equal('<?last=1.36&n=100>; rel="next"');
    expect(relativeLink(undefined)).to.equal(undefined);
  });

  it('declares Docker Hub (default, library/), ghcr.io, quay.io, gcr.io and registry.k8s.io in the embedded defaults, valid as config', async () => {
    // The workspace root: no config file there, and the installed plugins are discovered.
    const root = path.resolve(path.dirname(new URL(import.meta.url).pathname), '../../..');
    const { config } = await loadConfig({ cwd: root, env: {} });
    const docker = Object.values(config.remotes).filter((r) => r.type === 'docker');
    const byName = Object.fromEntries(docker.map((r) => [r.name, r]));
    expect(Object.keys(byName)).to.include.members(['dockerhub', 'ghcr', 'quay', 'gcr', 'k8s']);
    expect(byName.dockerhub!.upstream.href).to.equal('https://registry-1.docker.io/');
    expect(byName.dockerhub!.options).to.deep.include({ default: true, libraryPrefix: true });
    expect(byName.dockerhub!.allowedHosts).to.include.members(['auth.docker.io', 'production.cloudflare.docker.com']);
    expect(docker.filter((r) => (r.options as { default: boolean }).default)).to.have.length(1);
  });

  it("converts a plugin option's ${VAR} by the plugin's schema: a boolean key gets a boolean, a digit password stays a string", async () => {
    const dir = await mkdtemp(path.join(tmpdir(), 'cf-docker-config-'));
    try {
      const file = path.join(dir, 'cacheforge.config.json');
      await writeFile(file, JSON.stringify({ plugins: ['@cacheforge/plugin-docker'], remotes: { hub: {
        type: 'docker', upstream: 'https://registry-1.docker.io/', libraryPrefix: '${CF_T_PREFIX:-true}', username: 'me', password: '${CF_T_PW}',
      } } }));
      const { config } = await loadConfig({ configPath: file, env: { CF_T_PW: '123456' } });
      expect(config.remotes.hub!.options).to.include({ libraryPrefix: true, password: '123456' });
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });

  it('rejects a username without a password, naming the key', async () => {
    const dir = await mkdtemp(path.join(tmpdir(), 'cf-docker-config-'));
    try {
      const file = path.join(dir, 'cacheforge.config.json');
      await writeFile(file, JSON.stringify({ plugins: ['@cacheforge/plugin-docker'], remotes: { hub: { type: 'docker', upstream: 'https://registry-1.docker.io/', username: 'me' } } }));
      const error = await loadConfig({ configPath: file, env: {} }).then(() => undefined, (err: Error) => err);
      expect(error?.message).to.match(/remotes\.hub\.password/);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });

  it('refuses a second remote marked default, naming its key and the file (the root /v2/ serves one registry)', async () => {
    const dir = await mkdtemp(path.join(tmpdir(), 'cf-docker-config-'));
    try {
      const file = path.join(dir, 'cacheforge.config.json');
      await writeFile(file, JSON.stringify({
        plugins: ['@cacheforge/plugin-docker'],
        remotes: {
          hub: { type: 'docker', upstream: 'https://registry-1.docker.io/', default: true },
          ghcr: { type: 'docker', upstream: 'https://ghcr.io/', default: true },
          quay: { type: 'docker', upstream: 'https://quay.io/' },
        },
      }));
      const error = await loadConfig({ configPath: file, env: {} }).then(() => undefined, (err: Error & { code?: string }) => err);
      expect(error?.code).to.equal('CF_ERR_CONFIG_INVALID');
      expect(error?.message).to.contain(file);
      expect(error?.message).to.match(/remotes\.ghcr\.default: only one docker remote may be the default .*hub already is/);
      expect(error?.message).to.not.match(/remotes\.(hub|quay)\./);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});
