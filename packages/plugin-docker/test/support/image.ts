import { createHash } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { mkdir, readFile, rename, writeFile, copyFile, stat } from 'node:fs/promises';
import path from 'node:path';
import { createGunzip } from 'node:zlib';
import { run } from '@cacheforge/core/testing';

export const OCI = {
  manifest: 'application/vnd.oci.image.manifest.v1+json',
  index: 'application/vnd.oci.image.index.v1+json',
  config: 'application/vnd.oci.image.config.v1+json',
  layer: 'application/vnd.oci.image.layer.v1.tar+gzip',
} as const;

export interface Descriptor { mediaType: string; digest: string; size: number; platform?: { architecture: string; os: string } }

/**
 * Builds images into an OCI image layout (the format skopeo reads with `oci:DIR:TAG`) without
 * any container engine: each layer is a gzip tar (made by `tar`) of a real folder, the config
 * names its diff_ids, and a tag can be a single manifest or a multi-platform index.
 */
export class LayoutBuilder {
  private readonly refs: { tag: string; descriptor: Descriptor }[] = [];

  constructor(readonly dir: string) {}

  async init(): Promise<void> {
    await mkdir(path.join(this.dir, 'blobs', 'sha256'), { recursive: true });
    await writeFile(path.join(this.dir, 'oci-layout'), JSON.stringify({ imageLayoutVersion: '1.0.0' }));
  }

  /** Adds a blob from bytes. */
  async blob(mediaType: string, bytes: Buffer): Promise<Descriptor> {
    const hex = createHash('sha256').update(bytes).digest('hex');
    await writeFile(path.join(this.dir, 'blobs', 'sha256', hex), bytes);
    return { mediaType, digest: `sha256:${hex}`, size: bytes.length };
  }

  /** A layer: `tar -cz` of `folder`'s content; returns its descriptor and diff_id. */
  async layer(folder: string): Promise<{ descriptor: Descriptor; diffId: string }> {
    const tmp = path.join(this.dir, `layer-${Date.now()}-${Math.random().toString(36).slice(2)}.tgz`);
    await run('tar', ['--sort=name', '--mtime=@1700000000', '--owner=0', '--group=0', '-C', folder, '-czf', tmp, '.'], { timeoutMs: 600_000 });
    const digest = await hashFile(tmp);
    const diffId = await hashFile(tmp, true);
    const size = (await stat(tmp)).size;
    await rename(tmp, path.join(this.dir, 'blobs', 'sha256', digest));
    return { descriptor: { mediaType: OCI.layer, digest: `sha256:${digest}`, size }, diffId: `sha256:${diffId}` };
  }

  /** An image manifest for one platform over `layers` (folders). */
  async image(architecture: string, layers: readonly { descriptor: Descriptor; diffId: string }[]): Promise<Descriptor> {
    const config = await this.blob(OCI.config, Buffer.from(JSON.stringify({
      architecture, os: 'linux', config: { Cmd: ['/bin/sh'] }, rootfs: { type: 'layers', diff_ids: layers.map((l) => l.diffId) },
    })));
    const manifest = await this.blob(OCI.manifest, Buffer.from(JSON.stringify({
      schemaVersion: 2, mediaType: OCI.manifest, config, layers: layers.map((l) => l.descriptor),
    })));
    return { ...manifest, platform: { architecture, os: 'linux' } };
  }

  /** A multi-platform index over image manifests. */
  async index(manifests: readonly Descriptor[]): Promise<Descriptor> {
    return this.blob(OCI.index, Buffer.from(JSON.stringify({ schemaVersion: 2, mediaType: OCI.index, manifests })));
  }

  tag(tag: string, descriptor: Descriptor): void {
    this.refs.push({ tag, descriptor });
  }

  /** Writes `index.json` with every tag. */
  async finish(): Promise<void> {
    await writeFile(path.join(this.dir, 'index.json'), JSON.stringify({
      schemaVersion: 2,
      manifests: this.refs.map((r) => ({ mediaType: r.descriptor.mediaType, digest: r.descriptor.digest, size: r.descriptor.size, annotations: { 'org.opencontainers.image.ref.name': r.tag } })),
    }));
  }
}

async function hashFile(file: string, gunzip = false): Promise<string> {
  const hash = createHash('sha256');
  const source = createReadStream(file);
  const stream = gunzip ? source.pipe(createGunzip()) : source;
  for await (const chunk of stream) hash.update(chunk as Buffer);
  return hash.digest('hex');
}

/** A folder of real files for a layer: copies of `files` plus a text file that tells images apart. */
export async function layerFolder(dir: string, files: readonly string[], note: string): Promise<string> {
  await mkdir(path.join(dir, 'bin'), { recursive: true });
  await mkdir(path.join(dir, 'etc'), { recursive: true });
  for (const file of files) await copyFile(file, path.join(dir, 'bin', path.basename(file)));
  await writeFile(path.join(dir, 'etc', 'fixture-release'), `${note}\n`);
  return dir;
}

/** The manifest digest an OCI layout's `index.json` names for `tag`. */
export async function layoutDigest(dir: string, tag?: string): Promise<string> {
  const index = JSON.parse(await readFile(path.join(dir, 'index.json'), 'utf8')) as { manifests: { digest: string; annotations?: Record<string, string> }[] };
  const entry = tag ? index.manifests.find((m) => m.annotations?.['org.opencontainers.image.ref.name'] === tag) : index.manifests[0];
  if (!entry) throw new Error(`no ${tag ?? 'manifest'} in ${dir}/index.json`);
  return entry.digest;
}
