import { expect } from 'chai';
import { execFileSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { CORE_SCHEMA, load as loadYaml, loadAll, mergeTag } from 'js-yaml';
import { z } from 'zod';
import { loadConfig } from '../../src/plugin/load-config.js';
import { hasProgram } from '../../src/testing/processes.js';
import { skipMissing } from '../../src/testing/skip.js';

/**
 * The deployment files cannot run here (no Docker engine, no cluster), so they are checked for
 * what would break a deployment: structure, the replicas' config loading through the real
 * config loader, ports and probe paths agreeing with it, and `nginx -t` on the balancer config.
 */
const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../../..');
const DEPLOY = path.join(ROOT, 'deploy');
// Compose files use `<<: *anchor` merge keys (YAML 1.1), which js-yaml 5 reads only when asked.
const COMPOSE_SCHEMA = CORE_SCHEMA.withTags(mergeTag);
const load = (text: string) => loadYaml(text, { schema: COMPOSE_SCHEMA });
const read = (file: string) => readFile(path.join(ROOT, file), 'utf8');

/** `${VAR}` names a config text takes from the environment. */
const variables = (text: string) => [...new Set([...text.matchAll(/\$\{([A-Za-z_][A-Za-z0-9_]*)/g)].map((m) => m[1]!))];

/** Loads a replica config through the real loader, with placeholder values for its variables. */
async function loadReplicaConfig(text: string, env: Record<string, string>) {
  const dir = await mkdtemp(path.join(tmpdir(), 'cf-deploy-'));
  try {
    const file = path.join(dir, 'cacheforge.yaml');
    await writeFile(file, text);
    return (await loadConfig({ configPath: file, cwd: ROOT, env: { ...env, PATH: process.env.PATH } })).config;
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

const healthcheck = z.object({ test: z.array(z.string()).min(2), interval: z.string(), timeout: z.string(), retries: z.number().int() });
const composeService = z.object({
  image: z.string().optional(), build: z.unknown().optional(), command: z.array(z.string()).optional(),
  environment: z.record(z.string(), z.string()).optional(), volumes: z.array(z.string()).optional(),
  ports: z.array(z.string()).optional(), expose: z.array(z.string()).optional(),
  depends_on: z.record(z.string(), z.object({ condition: z.enum(['service_started', 'service_healthy', 'service_completed_successfully']) })).optional(),
  healthcheck: healthcheck.optional(), restart: z.string().optional(),
}).strict().refine((s) => s.image || s.build, 'a service needs an image or a build');
const composeFile = z.object({
  name: z.string().optional(),
  services: z.record(z.string(), composeService),
  volumes: z.record(z.string(), z.null().or(z.object({}))).optional(),
}).passthrough();

describe('deployment files', () => {
  describe('deploy/compose.yaml', () => {
    let compose: z.infer<typeof composeFile>;
    before(async () => {
      compose = composeFile.parse(load(await read('deploy/compose.yaml')));
    });

    it('runs MinIO, PostgreSQL, Redis, two or more replicas and nginx, each started after what it needs is healthy', () => {
      const names = Object.keys(compose.services);
      expect(names).to.include.members(['minio', 'postgres', 'redis', 'nginx']);
      const replicas = names.filter((n) => /^cacheforge-\d+$/.test(n));
      expect(replicas.length).to.be.at.least(2);
      for (const name of ['minio', 'postgres', 'redis', ...replicas]) expect(compose.services[name]!.healthcheck, `${name} healthcheck`).to.not.equal(undefined);
      for (const r of replicas) {
        expect(Object.keys(compose.services[r]!.depends_on!)).to.have.members(['minio', 'postgres', 'redis']);
        expect(compose.services[r]!.healthcheck!.test.join(' ')).to.include('/-/ready');
      }
      expect(Object.keys(compose.services.nginx!.depends_on!)).to.have.members(replicas);
      // Only nginx is published; the replicas are reached through it.
      for (const r of replicas) expect(compose.services[r]!.ports).to.equal(undefined);
    });

    it('gives the replicas a config that loads, pointing at the compose services, with every secret from the environment', async () => {
      const replica = compose.services['cacheforge-1']!;
      const mount = replica.volumes!.find((v) => v.endsWith(':/etc/cacheforge/cacheforge.yaml:ro'));
      expect(mount).to.not.equal(undefined);
      expect(replica.command).to.deep.equal(['start', '--config', '/etc/cacheforge/cacheforge.yaml']);
      const text = await readFile(path.join(DEPLOY, mount!.split(':')[0]!), 'utf8');
      for (const name of variables(text)) expect(Object.keys(replica.environment!), `replica env ${name}`).to.include(name);
      const config = await loadReplicaConfig(text, { S3_ACCESS_KEY: 'key', S3_SECRET_KEY: 'secret', POSTGRES_PASSWORD: 'pw' });
      expect(config.storage.s3).to.include({ endPoint: 'minio', port: 9000, useSSL: false });
      expect(String(config.metadata.postgres!.connection)).to.match(/@postgres:5432\//);
      expect(config.cache.redis!.url).to.match(/^redis:\/\/redis:6379/);
      expect(config.server.port).to.equal(8080);
      expect(compose.services.minio!.command!.join(' ')).to.include('/data');
      expect(compose.services.postgres!.environment!.POSTGRES_DB).to.equal(new URL(String(config.metadata.postgres!.connection)).pathname.slice(1));
    });

    it('balances over exactly the replica services on their port (deploy/nginx.conf)', async () => {
      const conf = await read('deploy/nginx.conf');
      const servers = [...conf.matchAll(/^\s*server\s+([\w.-]+):(\d+)/gm)].map((m) => `${m[1]}:${m[2]}`);
      const replicas = Object.keys(compose.services).filter((n) => /^cacheforge-\d+$/.test(n));
      expect(servers.sort()).to.deep.equal(replicas.map((r) => `${r}:8080`).sort());
      expect(compose.services.nginx!.volumes).to.include('./nginx.conf:/etc/nginx/nginx.conf:ro');
      expect(conf).to.match(/proxy_buffering off;/);
      expect(compose.services.nginx!.ports).to.deep.equal(['8080:8080']);
      expect(conf).to.match(/listen 8080;/);
    });
  });

  describe('deploy/nginx.conf', () => {
    it('forwards the client address (appended, the right-most entry) to replicas that trust it, and caps slow and greedy clients itself', async () => {
      const conf = await read('deploy/nginx.conf');
      expect(conf).to.match(/proxy_set_header X-Forwarded-For \$proxy_add_x_forwarded_for;/);
      expect(conf).to.match(/client_header_timeout 20s;/);
      expect(conf).to.match(/limit_conn perclient 256;/);
      const replica = load(await read('deploy/cacheforge.yaml')) as { server: Record<string, unknown> };
      expect(replica.server).to.include({ trustProxy: true, maxConnectionsPerClient: 256 });
    });

    it('passes nginx -t (with the compose host names pointed at loopback)', async function () {
      if (!hasProgram('nginx') && !existsSync('/usr/sbin/nginx')) skipMissing(this, 'nginx', 'not installed');
      const nginx = hasProgram('nginx') ? 'nginx' : '/usr/sbin/nginx';
      const dir = await mkdtemp(path.join(tmpdir(), 'cf-nginx-'));
      try {
        // Docker's DNS resolves cacheforge-N inside the compose network; here they would not.
        const conf = (await read('deploy/nginx.conf')).replace(/^(\s*server\s+)cacheforge-\d+(:\d+)/gm, '$1127.0.0.1$2');
        const file = path.join(dir, 'nginx.conf');
        await writeFile(file, conf);
        const out = execFileSync(nginx, ['-t', '-q', '-p', dir, '-e', path.join(dir, 'error.log'), '-c', file], { stdio: ['ignore', 'pipe', 'pipe'] });
        expect(out.toString()).to.equal('');
      } finally {
        await rm(dir, { recursive: true, force: true });
      }
    });
  });

  describe('deploy/k8s', () => {
    type Doc = { kind: string; metadata: { name: string }; [k: string]: unknown };
    let docs: Doc[];
    const one = (kind: string) => docs.find((d) => d.kind === kind) as Doc & Record<string, any>;
    before(async () => {
      const kustomization = load(await read('deploy/k8s/kustomization.yaml')) as { resources: string[] };
      docs = [];
      for (const file of kustomization.resources) docs.push(...(loadAll(await read(`deploy/k8s/${file}`)) as Doc[]));
    });

    it('has a Deployment of 2+ replicas, a Service, a ConfigMap and a Secret', () => {
      expect(docs.map((d) => d.kind).sort()).to.deep.equal(['ConfigMap', 'Deployment', 'Secret', 'Service']);
      const deployment = one('Deployment');
      expect(deployment.apiVersion).to.equal('apps/v1');
      expect(deployment.spec.replicas).to.be.at.least(2);
      expect(deployment.spec.selector.matchLabels).to.deep.equal(deployment.spec.template.metadata.labels);
      expect(one('Service').spec.selector).to.deep.equal(deployment.spec.template.metadata.labels);
    });

    it('probes /-/health (liveness) and /-/ready (readiness) on the port the config listens on', async () => {
      const pod = one('Deployment').spec.template.spec;
      const container = pod.containers[0];
      const ports = new Map<string, number>(container.ports.map((p: { name: string; containerPort: number }) => [p.name, p.containerPort]));
      expect(container.livenessProbe.httpGet.path).to.equal('/-/health');
      expect(container.readinessProbe.httpGet.path).to.equal('/-/ready');
      for (const probe of [container.livenessProbe, container.readinessProbe, container.startupProbe]) expect(ports.has(probe.httpGet.port)).to.equal(true);
      const service = one('Service');
      expect(ports.has(service.spec.ports[0].targetPort)).to.equal(true);
      const text = one('ConfigMap').data['cacheforge.yaml'] as string;
      const secret = one('Secret').stringData as Record<string, string>;
      const config = await loadReplicaConfig(text, secret);
      expect(ports.get('http')).to.equal(config.server.port);
      expect(config.server.host).to.equal('0.0.0.0');
      // Pods stop within the grace period only if in-flight downloads are given less than it.
      expect(pod.terminationGracePeriodSeconds * 1000).to.be.above(config.server.shutdownTimeout);
      expect(pod.securityContext.runAsNonRoot).to.equal(true);
    });

    it('mounts the ConfigMap where the container reads its config, and fills every ${VAR} from the Secret', () => {
      const pod = one('Deployment').spec.template.spec;
      const container = pod.containers[0];
      const configArg = container.args[container.args.indexOf('--config') + 1] as string;
      const volume = pod.volumes.find((v: { configMap?: { name: string } }) => v.configMap?.name === one('ConfigMap').metadata.name);
      const mount = container.volumeMounts.find((m: { name: string }) => m.name === volume.name);
      expect(path.posix.join(mount.mountPath, 'cacheforge.yaml')).to.equal(configArg);
      expect(container.envFrom[0].secretRef.name).to.equal(one('Secret').metadata.name);
      const needed = variables(one('ConfigMap').data['cacheforge.yaml']);
      expect(Object.keys(one('Secret').stringData)).to.include.members(needed);
      // The S3 spool is a writable volume (the root filesystem is read-only).
      const spool = (load(one('ConfigMap').data['cacheforge.yaml']) as { storage: { s3: { spool: string } } }).storage.s3.spool;
      expect(container.volumeMounts.map((m: { mountPath: string }) => m.mountPath)).to.include(spool);
    });
  });

  describe('Dockerfile', () => {
    it('builds in stages and runs as a non-root user with a health check on /-/health', async () => {
      const text = await read('Dockerfile');
      const lines = text.split('\n').filter((l) => !l.trim().startsWith('#'));
      expect(lines.filter((l) => /^FROM\s/.test(l)).length).to.be.at.least(2);
      const user = lines.filter((l) => /^USER\s/.test(l)).at(-1);
      expect(user, 'a USER line').to.not.equal(undefined);
      expect(user!.split(/\s+/)[1]).to.not.match(/^(root|0)(:|$)/);
      expect(lines.join('\n')).to.match(/^HEALTHCHECK .*\n?.*\/-\/health/m);
      expect(lines.some((l) => /^EXPOSE\s+8080\b/.test(l))).to.equal(true);
      const entry = /^ENTRYPOINT \["node", "\/app\/([^"]+)"\]/m.exec(text);
      expect(entry, 'ENTRYPOINT runs the cacheforge command').to.not.equal(null);
      expect(existsSync(path.join(ROOT, entry![1]!))).to.equal(true);
      for (const copied of ['package.json', 'pnpm-lock.yaml', 'pnpm-workspace.yaml', 'tsconfig.base.json']) expect(existsSync(path.join(ROOT, copied))).to.equal(true);
    });
  });
});
