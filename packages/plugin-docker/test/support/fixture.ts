import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import http from 'node:http';
import { LayoutBuilder, layerFolder, OCI, type Descriptor } from './image.js';
import { Skopeo } from './skopeo.js';
import { requirePrograms, type Skippable } from '@cacheforge/core/testing';
import { startRegistry, type Registry } from './registry.js';
import { RegistryFront } from './front.js';

/** Programs the real-client tests need, with the Debian package that provides each. */
export const TOOLS = { skopeo: 'skopeo', 'docker-registry': 'docker-registry', tar: 'tar', openssl: 'openssl' } as const;

/** Skips the suite (by name, with the Debian package to install) when a program is missing; fails under CI=true. */
export async function requireTools(suite: Skippable, programs: readonly string[]): Promise<void> {
  requirePrograms(suite, programs, (missing) => `apt-get install ${missing === 'ctr' ? 'containerd' : missing}`);
}

/** The test images: a single-platform image and a two-platform index, built from real files. */
export interface FixtureImages {
  readonly layout: string;
  readonly single: Descriptor;
  readonly multi: Descriptor;
  readonly amd64: Descriptor;
  readonly arm64: Descriptor;
}

/** Builds the layout (tags `single` and `multi`) in `dir`. */
export async function buildFixtureImages(dir: string): Promise<FixtureImages> {
  const layout = path.join(dir, 'layout');
  const builder = new LayoutBuilder(layout);
  await builder.init();
  const tools = await builder.layer(await layerFolder(path.join(dir, 'l-tools'), ['/bin/ls', '/bin/cat', '/usr/bin/env'], 'tools'));
  const amdNote = await builder.layer(await layerFolder(path.join(dir, 'l-amd'), [], 'platform linux/amd64'));
  const armNote = await builder.layer(await layerFolder(path.join(dir, 'l-arm'), [], 'platform linux/arm64'));
  const single = await builder.image('amd64', [tools]);
  const amd64 = await builder.image('amd64', [tools, amdNote]);
  const arm64 = await builder.image('arm64', [tools, armNote]);
  const multi = await builder.index([amd64, arm64]);
  builder.tag('single', single);
  builder.tag('multi', multi);
  await builder.finish();
  return { layout, single, multi, amd64, arm64 };
}

/** Pushes the fixture images to a registry: `fix/app:1` (single) and `library/multi:latest` (index). */
export async function pushFixtureImages(skopeo: Skopeo, images: FixtureImages, registryHost: string, creds?: string): Promise<void> {
  await skopeo.push(images.layout, 'single', `docker://${registryHost}/fix/app:1`, creds);
  await skopeo.push(images.layout, 'multi', `docker://${registryHost}/library/multi:latest`, creds);
}

/** A temp folder removed by `cleanup`. */
export async function tempDir(prefix: string): Promise<{ dir: string; cleanup(): Promise<void> }> {
  const dir = await mkdtemp(path.join(tmpdir(), prefix));
  return { dir, cleanup: () => rm(dir, { recursive: true, force: true }) };
}

/** A plain HTTP request read whole. */
export function httpRequest(url: string, options: { method?: string; headers?: Record<string, string> } = {}): Promise<{ status: number; headers: http.IncomingHttpHeaders; body: Buffer }> {
  return new Promise((resolve, reject) => {
    const req = http.request(url, { method: options.method ?? 'GET', headers: options.headers, agent: false }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => resolve({ status: res.statusCode!, headers: res.headers, body: Buffer.concat(chunks) }));
      res.on('error', reject);
    });
    req.on('error', reject);
    req.end();
  });
}

export { OCI };

/** The Accept skopeo 1.9 sends for manifests (a tag is stored per distinct Accept set). */
export const SKOPEO_ACCEPT = [
  'application/vnd.oci.image.manifest.v1+json', 'application/vnd.docker.distribution.manifest.v2+json',
  'application/vnd.docker.distribution.manifest.v1+prettyjws', 'application/vnd.docker.distribution.manifest.v1+json',
  'application/vnd.docker.distribution.manifest.list.v2+json', 'application/vnd.oci.image.index.v1+json',
].join(', ');

/** A real registry holding the fixture images, behind a counting front; `stop` ends both. */
export interface UpstreamFixture {
  readonly registry: Registry;
  readonly front: RegistryFront;
  readonly images: FixtureImages;
  readonly skopeo: Skopeo;
  stop(): Promise<void>;
}

/** Starts `docker-registry` in `dir`, builds and pushes the fixture images, and puts a front before it. */
export async function startUpstreamFixture(dir: string): Promise<UpstreamFixture> {
  const registry = await startRegistry(path.join(dir, 'registry'));
  const front = new RegistryFront(new URL(registry.url));
  await front.start();
  const images = await buildFixtureImages(dir);
  const skopeo = await Skopeo.create(path.join(dir, 'skopeo'));
  await pushFixtureImages(skopeo, images, registry.host);
  return { registry, front, images, skopeo, async stop() { await front.stop(); await registry.stop(); } };
}
