import { execFile } from 'node:child_process';
import { createHash } from 'node:crypto';
import { mkdtemp, readdir, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import type { FakeUpstream } from '@cacheforge/core/testing';

const run = promisify(execFile);
const GENERATOR = fileURLToPath(new URL('../fixture/gen_apk_repo.py', import.meta.url));

/** One repository directory of the fixture mirror: `<branch>/<repository>/<arch>`. */
export interface FixtureRepo {
  readonly dir: string;
  readonly signed: boolean;
  readonly packages: readonly string[];
}

/** Two branches, two repositories, two architectures; signed like official packages, and one unsigned. */
export const REPOS: readonly FixtureRepo[] = [
  { dir: 'v3.20/main/x86_64', signed: true, packages: ['hello-fixture=1.0-r0', 'musl-fixture=1.2.5-r0', 'tampered=1.0-r0', 'oversized=1.0-r0'] },
  { dir: 'v3.20/main/aarch64', signed: true, packages: ['hello-fixture=1.0-r0'] },
  { dir: 'edge/community/x86_64', signed: false, packages: ['hello-fixture=1.1-r0', 'edge-only=0.1-r0'] },
];

/** The fixture mirror's files by path below `alpine/`. */
export type MirrorFiles = Map<string, Buffer>;

/**
 * Generates the fixture mirror with `gen_apk_repo.py` (deterministic; RSA-signed with a key made
 * for the run where the repo is signed) and returns its files. Needs python3 and openssl.
 */
export async function generateMirror(repos: readonly FixtureRepo[] = REPOS): Promise<MirrorFiles> {
  const dir = await mkdtemp(path.join(tmpdir(), 'cf-apk-'));
  try {
    const key = path.join(dir, 'key.pem');
    await run('openssl', ['genrsa', '-out', key, '2048']);
    for (const repo of repos) {
      const [branch, name, arch] = repo.dir.split('/') as [string, string, string];
      const env = repo.signed ? { ...process.env, APK_SIGN_KEY: key } : { ...process.env, APK_SIGN_KEY: '' };
      await run('python3', [GENERATOR, path.join(dir, 'www', branch, name), arch, ...repo.packages], { env });
    }
    const files: MirrorFiles = new Map();
    for (const repo of repos) {
      for (const file of await readdir(path.join(dir, 'www', repo.dir))) files.set(`${repo.dir}/${file}`, await readFile(path.join(dir, 'www', repo.dir, file)));
    }
    return files;
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

/** Serves a file as a CDN does: with a strong ETag and a Last-Modified, so revalidation can be asked. */
export function serveFile(upstream: FakeUpstream, file: string, body: Buffer): void {
  const etag = `"${createHash('sha256').update(body).digest('hex').slice(0, 16)}"`;
  upstream.set(`/alpine/${file}`, { body, etag, lastModified: 'Tue, 14 Nov 2023 22:13:20 GMT', headers: { 'content-type': 'application/octet-stream' } });
}

export function serveMirror(upstream: FakeUpstream, files: MirrorFiles): void {
  for (const [file, body] of files) serveFile(upstream, file, body);
}
