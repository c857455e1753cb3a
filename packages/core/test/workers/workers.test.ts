import { expect } from 'chai';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import http from 'node:http';
import { spawnCacheForge, type CliProcess } from '../../src/testing/cli-process.js';
import { waitFor } from '../../src/testing/wait.js';
import {
  GatedUpstream, connectionsPerWorker, filesBelow, randomBody, running, sha, stream, text, writeConfig, writeTestPlugin,
} from './support.js';

const MiB = 1024 * 1024;

/** Sums the samples of one metric (every label set) in a Prometheus text exposition. */
function total(exposition: string, name: string, labels = ''): number {
  return exposition.split('\n').filter((l) => l.startsWith(`${name}{`) && l.includes(labels)).reduce((sum, l) => sum + Number(l.split(' ').at(-1)), 0);
}

describe('workers: server.workers runs several processes as one instance (real processes)', function () {
  this.timeout(180_000);
  let dir: string;
  let plugin: string;
  let upstream: GatedUpstream;

  before(async () => {
    dir = await mkdtemp(path.join(tmpdir(), 'cf-workers-'));
    plugin = await writeTestPlugin(dir);
  });
  after(async () => { await rm(dir, { recursive: true, force: true }); });

  /** A fresh instance over its own folder. */
  async function instance(name: string, workers: number | 'auto' = 2): Promise<{ cf: CliProcess; root: string }> {
    const root = path.join(dir, name);
    const config = await writeConfig(await mkdtemp(root), plugin, upstream.url, workers);
    return { cf: await spawnCacheForge(config, [], { built: true }), root: path.dirname(config) };
  }

  describe('one instance, two workers', () => {
    let cf: CliProcess;
    let byWorker: Map<number, { agent: http.Agent; pid: number }[]>;
    let one: http.Agent[];
    let two: http.Agent[];

    before(async () => {
      upstream = await new GatedUpstream().start();
      ({ cf } = await instance('shared'));
      byWorker = await connectionsPerWorker(cf.url, 4, 2);
      [one, two] = [...byWorker.values()].map((list) => list.map((c) => c.agent)) as [http.Agent[], http.Agent[]];
    });
    after(async () => {
      for (const list of byWorker?.values() ?? []) for (const c of list) c.agent.destroy();
      await cf?.stop();
      await upstream.stop();
    });

    it('serves concurrent clients in both workers from one upstream GET, each streaming before the upstream finished', async () => {
      const body = randomBody(4 * MiB);
      const name = `/${sha(body)}.bin`;
      upstream.resetGate();
      upstream.set(name, { body, gateAt: MiB });
      // The first client makes the fill; the others come while the upstream is stopped at its gate.
      const first = stream(`${cf.url}/files${name}`, one[0]!);
      await upstream.atGate;
      const others = [...one.slice(1), ...two].map((agent) => stream(`${cf.url}/files${name}`, agent));
      await Promise.all([first, ...others].map((s) => s.firstByte));
      // Every client, in both workers, holds bytes while the upstream still has 3 MiB to send.
      expect(upstream.finished, 'upstream finished before every client got its first bytes').to.equal(false);
      upstream.release();
      const results = await Promise.all([first, ...others].map((s) => s.done));
      for (const r of results) {
        expect(r.status).to.equal(200);
        expect(r.complete).to.equal(true);
        expect(sha(r.body)).to.equal(sha(body));
      }
      expect(upstream.count(name)).to.equal(1);
      // Stored once for the whole instance: a hit in either worker.
      for (const agent of [one[0]!, two[0]!]) {
        const hit = await stream(`${cf.url}/files${name}`, agent).done;
        expect(hit.headers['x-cache-status']).to.equal('HIT');
        expect(sha(hit.body)).to.equal(sha(body));
      }
      expect(upstream.count(name)).to.equal(1);
    });

    it('never serves a tampered body whole in any worker', async () => {
      const good = randomBody(2 * MiB);
      const bad = Buffer.from(good);
      bad[bad.length - 10] = bad[bad.length - 10]! ^ 0xff;
      const name = `/${sha(good)}.bin`;
      upstream.resetGate();
      upstream.set(name, { body: bad, gateAt: MiB });
      const first = stream(`${cf.url}/files${name}`, one[0]!);
      await upstream.atGate;
      const other = stream(`${cf.url}/files${name}`, two[0]!);
      await other.firstByte;
      upstream.release();
      for (const r of await Promise.all([first.done, other.done].map((p) => p.catch(() => undefined)))) {
        // A broken download, or an error status: never the whole (wrong) body ending cleanly.
        if (r && r.status === 200) expect(r.complete, 'a tampered body ended cleanly').to.equal(false);
        if (r) expect(r.body.equals(bad)).to.equal(false);
      }
      // Nothing was stored: later requests in either worker ask the upstream again (and fail again).
      const before = upstream.count(name);
      await waitFor('a later request to ask the upstream again', async () => {
        const again = await stream(`${cf.url}/files${name}`, two[1]!).done.catch(() => undefined);
        if (again?.status === 200) expect(again.complete).to.equal(false);
        return upstream.count(name) > before;
      }, 20_000);
    });

    it('reports metrics summed over both workers', async () => {
      const body = randomBody(64 * 1024);
      const name = `/${sha(body)}.bin`;
      upstream.set(name, { body });
      const beforeText = (await text(`${cf.url}/-/metrics`)).body;
      const before = total(beforeText, 'cacheforge_requests_total', 'remote="files"');
      const agents = [...one, ...two];
      for (const agent of agents) {
        const r = await stream(`${cf.url}/files${name}`, agent).done;
        expect(r.status).to.equal(200);
      }
      const after = (await text(`${cf.url}/-/metrics`)).body;
      // Each worker counted its own 4: only the sum of both is 8.
      expect(total(after, 'cacheforge_requests_total', 'remote="files"') - before).to.equal(agents.length);
      expect(total(after, 'cacheforge_requests_total', 'cache="MISS"')).to.be.greaterThan(0);
      expect(total(after, 'cacheforge_fetched_bytes_total')).to.be.at.least(body.length);
    });

    it('a document one worker revalidated to new bytes is served new by the other, without an upstream request of its own', async () => {
      const v1 = Buffer.from('version one\n');
      const v2 = Buffer.from('version two, longer\n');
      upstream.set('/doc.txt', { body: v1, etag: '"v1"' });
      expect((await stream(`${cf.url}/files/doc.txt`, one[0]!).done).body.toString()).to.equal(v1.toString());
      const inTwo = await stream(`${cf.url}/files/doc.txt`, two[0]!).done;
      expect(inTwo.body.toString()).to.equal(v1.toString());
      expect(inTwo.headers['x-cache-status']).to.equal('HIT'); // now in worker two's hot index
      upstream.set('/doc.txt', { body: v2, etag: '"v2"' });
      // Worker one asks again until its copy is past its 2 s TTL and it fetched the new version.
      await waitFor('worker one to revalidate the document', async () => (await stream(`${cf.url}/files/doc.txt`, one[0]!).done).body.equals(v2), 20_000);
      expect(upstream.count('/doc.txt')).to.equal(2);
      // Worker two's old entry is dropped (the hot-index news) or found stale and looked up again
      // under the key's lock: either way the new bytes, from what is stored, no request upstream.
      const after = await stream(`${cf.url}/files/doc.txt`, two[0]!).done;
      expect(after.body.toString()).to.equal(v2.toString());
      expect(after.headers['x-cache-status']).to.equal('HIT');
      expect(upstream.count('/doc.txt')).to.equal(2);
    });

    it('a filling worker that dies leaves its followers a broken download, never a short clean one, and is replaced', async () => {
      const body = randomBody(4 * MiB);
      const name = `/${sha(body)}.bin`;
      upstream.resetGate();
      upstream.set(name, { body, gateAt: MiB });
      const [filler] = byWorker.get([...byWorker.keys()][0]!)!;
      const follower = byWorker.get([...byWorker.keys()][1]!)![0]!;
      const first = stream(`${cf.url}/files${name}`, filler!.agent);
      await upstream.atGate;
      const other = stream(`${cf.url}/files${name}`, follower.agent);
      await other.firstByte;
      const listening = cf.output().split('"worker listening"').length;
      process.kill(filler!.pid, 'SIGKILL');
      const [a, b] = await Promise.all([first.done.catch(() => undefined), other.done.catch(() => undefined)]);
      expect(a?.complete ?? false).to.equal(false);
      expect(b?.complete, 'the follower in the other worker got a clean end').to.equal(false);
      expect(b!.body.length).to.be.below(body.length);
      upstream.release();
      await waitFor('a replacement worker', () => cf.output().split('"worker listening"').length > listening, 30_000);
      // Nothing of the dead fill was kept: the next request fetches it again, whole.
      const later = await stream(`${cf.url}/files${name}`, follower.agent).done;
      expect(later.complete).to.equal(true);
      expect(sha(later.body)).to.equal(sha(body));
      expect(upstream.count(name)).to.equal(2);
    });

    it('every worker, a replacement too, sends the same instance id upstream and refuses it back (the loop guard)', async () => {
      const fresh = await connectionsPerWorker(cf.url, 1, 2);
      try {
        const first = upstream.vias.length;
        for (const [i, agent] of [...fresh.values()].map((l) => l[0]!.agent).entries()) {
          const body = randomBody(1000 + i);
          const name = `/${sha(body)}.bin`;
          upstream.set(name, { body });
          expect((await stream(`${cf.url}/files${name}`, agent).done).status).to.equal(200);
        }
        const vias = upstream.vias.slice(first);
        expect(vias).to.have.length(2);
        expect(vias[0]).to.match(/cacheforge-[0-9a-f]+/);
        expect(vias[1]).to.equal(vias[0]);
        for (const agent of [...fresh.values()].map((l) => l[0]!.agent)) {
          const looped = await text(`${cf.url}/files/anything.bin`, agent, { via: vias[0]! });
          expect(looped.status).to.equal(508);
        }
      } finally {
        for (const list of fresh.values()) for (const c of list) c.agent.destroy();
      }
    });
  });

  describe('a purge through the API', () => {
    const ADMIN = 'cf-workers-test-admin-token-0123456789';
    let cf: CliProcess;
    let byWorker: Map<number, { agent: http.Agent; pid: number }[]>;

    before(async () => {
      upstream = await new GatedUpstream().start();
      const root = await mkdtemp(path.join(dir, 'purge'));
      const config = await writeConfig(root, plugin, upstream.url, 2, { auth: { adminTokens: [ADMIN] } });
      cf = await spawnCacheForge(config, [], { built: true });
      byWorker = await connectionsPerWorker(cf.url, 1, 2);
    });
    after(async () => {
      for (const list of byWorker?.values() ?? []) for (const c of list) c.agent.destroy();
      await cf?.stop();
      await upstream.stop();
    });

    it('made in one worker drops the key from the other worker\'s hot index too: the next request there is fetched again, not served from memory', async () => {
      const [one, two] = [...byWorker.values()].map((list) => list[0]!.agent) as [http.Agent, http.Agent];
      const body = randomBody(1024);
      const name = `/${sha(body)}.bin`;
      upstream.set(name, { body });
      expect((await stream(`${cf.url}/files${name}`, one).done).body.equals(body)).to.equal(true);
      const held = await stream(`${cf.url}/files${name}`, two).done;
      expect(held.headers['x-cache-status']).to.equal('HIT'); // a small body: now in worker two's memory
      // The purge goes through worker one, so only the news of it can reach worker two.
      const purged = await new Promise<number>((resolve, reject) => {
        http.request(`${cf.url}/-/api/v1/remotes/files/artifacts${name}`, { method: 'DELETE', agent: one, headers: { authorization: `Bearer ${ADMIN}` } }, (res) => {
          res.resume(); res.on('end', () => resolve(res.statusCode!));
        }).on('error', reject).end();
      });
      expect(purged).to.equal(200);
      await waitFor('worker two to drop the purged key', async () => (await stream(`${cf.url}/files${name}`, two).done).headers['x-cache-status'] !== 'HIT', 10_000);
      expect(upstream.count(name)).to.equal(2);
    });
  });

  describe('shutdown', () => {
    beforeEach(async () => { upstream = await new GatedUpstream().start(); });
    afterEach(async () => { await upstream.stop(); });

    it('SIGTERM to the primary and its workers (a control-group stop) lets fills in every worker finish, then every process exits', async () => {
      const { cf, root } = await instance('term');
      const byWorker = await connectionsPerWorker(cf.url, 1, 2);
      const [a, b] = [...byWorker.values()].map((l) => l[0]!);
      try {
        const body = randomBody(3 * MiB);
        const name = `/${sha(body)}.bin`;
        upstream.set(name, { body, gateAt: MiB });
        const first = stream(`${cf.url}/files${name}`, a!.agent);
        await upstream.atGate;
        const other = stream(`${cf.url}/files${name}`, b!.agent);
        await other.firstByte;
        // As systemd stops a service: SIGTERM to every process of the group, the workers too.
        const exited = cf.stop('SIGTERM');
        for (const pid of [a!.pid, b!.pid]) process.kill(pid, 'SIGTERM');
        await waitFor('the workers to start draining', () => (cf.output().match(/"shutting down"/g) ?? []).length === 2, 20_000);
        upstream.release();
        for (const r of await Promise.all([first.done, other.done])) {
          expect(r.complete).to.equal(true);
          expect(sha(r.body)).to.equal(sha(body));
        }
        expect(await exited).to.equal(0);
        for (const pid of [a!.pid, b!.pid]) await waitFor(`worker ${pid} to exit`, () => !running(pid), 10_000);
        const digest = sha(body);
        expect(await filesBelow(path.join(root, 'blobs'))).to.include(path.join('sha256', digest.slice(0, 2), digest));
      } finally {
        for (const c of [a, b]) c?.agent.destroy();
        await cf.stop('SIGKILL');
      }
    });

    it('SIGKILL of the primary: the workers abort their fills and exit, and nothing partial is stored', async () => {
      const { cf, root } = await instance('kill');
      const byWorker = await connectionsPerWorker(cf.url, 1, 2);
      const [a, b] = [...byWorker.values()].map((l) => l[0]!);
      const body = randomBody(3 * MiB);
      const name = `/${sha(body)}.bin`;
      upstream.set(name, { body, gateAt: MiB });
      try {
        const first = stream(`${cf.url}/files${name}`, a!.agent);
        await upstream.atGate;
        await first.firstByte;
        cf.child.kill('SIGKILL');
        for (const pid of [a!.pid, b!.pid]) await waitFor(`worker ${pid} to exit after its primary`, () => !running(pid), 20_000);
        const r = await first.done.catch(() => undefined);
        expect(r?.complete ?? false, 'a client of the killed instance got a clean end').to.equal(false);
        // No blob, no temp file left behind.
        expect(await filesBelow(path.join(root, 'blobs'))).to.deep.equal([]);
      } finally {
        for (const c of [a, b]) c?.agent.destroy();
        upstream.release();
      }
      // A new instance on the same folder has no record of it: it fetches it again, whole.
      const again = await spawnCacheForge(path.join(root, 'cacheforge.config.json'), [], { built: true });
      try {
        const r = await text(`${again.url}/files${name}`);
        expect(r.headers['x-cache-status']).to.equal('MISS');
        expect(upstream.count(name)).to.equal(2);
      } finally {
        await again.stop();
      }
    });
  });

  describe('config', () => {
    it('server.workers takes a count from 1 to 256 or "auto"; anything else names the file and key', async () => {
      upstream = await new GatedUpstream().start();
      try {
        const { run } = await import('../../src/testing/processes.js');
        const bad = await writeConfig(await mkdtemp(path.join(dir, 'bad-')), plugin, upstream.url, 0);
        const failed = await run(process.execPath, ['--import', 'tsx', '--conditions=source', path.resolve('src/cli/bin.ts'), 'config', 'check', '--config', bad])
          .then(() => undefined, (err: { stderr?: string; message: string }) => err.stderr ?? err.message);
        expect(failed).to.be.a('string');
        expect(failed).to.include('server.workers').and.to.include(bad);
        const auto = await writeConfig(await mkdtemp(path.join(dir, 'auto-')), plugin, upstream.url, 'auto');
        const ok = await run(process.execPath, ['--import', 'tsx', '--conditions=source', path.resolve('src/cli/bin.ts'), 'config', 'check', '--config', auto]);
        expect(ok.stdout).to.include('workers');
      } finally {
        await upstream.stop();
      }
    });
  });
});


