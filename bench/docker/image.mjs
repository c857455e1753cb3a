// The benchmark image: an OCI image layout (what `skopeo copy oci:DIR:TAG` reads) with several
// layers of random data, built without a container engine. Each layer is a gzip tar (`tar`, gzip -1)
// of a folder holding one random file.
import { createHash, randomBytes } from 'node:crypto';
import { createReadStream, mkdirSync, writeFileSync, renameSync, statSync } from 'node:fs';
import { createGunzip } from 'node:zlib';
import path from 'node:path';
import { runCommand } from '../lib/proc.mjs';

const MiB = 1024 * 1024;

async function sha256(file, gunzip = false) {
  const hash = createHash('sha256');
  const source = createReadStream(file, { highWaterMark: MiB });
  for await (const chunk of gunzip ? source.pipe(createGunzip()) : source) hash.update(chunk);
  return hash.digest('hex');
}

function putBlob(layout, bytes) {
  const hex = createHash('sha256').update(bytes).digest('hex');
  writeFileSync(path.join(layout, 'blobs/sha256', hex), bytes);
  return { digest: `sha256:${hex}`, size: bytes.length };
}

/** Builds `layers` layers of `layerMiB` MiB each into `dir/layout`, tagged `tag`; returns the descriptors. */
export async function buildImage(dir, { layers, layerMiB, tag }) {
  const layout = path.join(dir, 'layout');
  mkdirSync(path.join(layout, 'blobs/sha256'), { recursive: true });
  writeFileSync(path.join(layout, 'oci-layout'), JSON.stringify({ imageLayoutVersion: '1.0.0' }));
  const built = [];
  for (let i = 0; i < layers; i++) {
    const folder = path.join(dir, `layer-${i}`);
    mkdirSync(path.join(folder, 'data'), { recursive: true });
    const file = path.join(folder, 'data', `random-${i}.bin`);
    const chunk = MiB * 8;
    writeFileSync(file, Buffer.alloc(0));
    for (let written = 0; written < layerMiB * MiB; written += chunk) writeFileSync(file, randomBytes(Math.min(chunk, layerMiB * MiB - written)), { flag: 'a' });
    const tgz = path.join(dir, `layer-${i}.tgz`);
    const tar = await runCommand('tar', ['--sort=name', '--mtime=@1700000000', '-I', 'gzip -1', '-C', folder, '-cf', tgz, '.'], { timeoutMs: 600_000 });
    if (tar.code !== 0) throw new Error(`tar failed: ${tar.stderr}`);
    const hex = await sha256(tgz);
    built.push({ mediaType: 'application/vnd.oci.image.layer.v1.tar+gzip', digest: `sha256:${hex}`, size: statSync(tgz).size, diffId: `sha256:${await sha256(tgz, true)}` });
    renameSync(tgz, path.join(layout, 'blobs/sha256', hex));
  }
  const config = putBlob(layout, Buffer.from(JSON.stringify({
    architecture: 'amd64', os: 'linux', config: { Cmd: ['/bin/sh'] }, rootfs: { type: 'layers', diff_ids: built.map((l) => l.diffId) },
  })));
  const manifest = putBlob(layout, Buffer.from(JSON.stringify({
    schemaVersion: 2, mediaType: 'application/vnd.oci.image.manifest.v1+json',
    config: { mediaType: 'application/vnd.oci.image.config.v1+json', ...config },
    layers: built.map(({ mediaType, digest, size }) => ({ mediaType, digest, size })),
  })));
  writeFileSync(path.join(layout, 'index.json'), JSON.stringify({
    schemaVersion: 2,
    manifests: [{ mediaType: 'application/vnd.oci.image.manifest.v1+json', ...manifest, annotations: { 'org.opencontainers.image.ref.name': tag } }],
  }));
  return { layout, manifest, layers: built, totalBytes: built.reduce((n, l) => n + l.size, 0) + config.size };
}
