import { createHash } from 'node:crypto';
import { existsSync } from 'node:fs';
import { readdir, readFile, realpath, stat } from 'node:fs/promises';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import path from 'node:path';

/** Where Debian's Maven packages (maven, libmaven-dependency-plugin-java, junit4) install their repository. */
export const DEBIAN_REPO = '/usr/share/maven-repo';

const hex = (alg: string, b: Buffer) => createHash(alg).update(b).digest('hex');

/** Debian's pseudo-versions stay fetchable but are not listed, so ranges never pick them. */
const listed = (v: string) => v !== 'debian' && !v.endsWith('.x');

function versionOrder(a: string, b: string): number {
  const parts = (v: string) => v.split(/[.-]/).map((x) => (/^\d+$/.test(x) ? [0, Number(x), ''] as const : [1, 0, x] as const));
  const pa = parts(a); const pb = parts(b);
  for (let i = 0; i < Math.max(pa.length, pb.length); i++) {
    const x = pa[i]; const y = pb[i];
    if (!x || !y) return x ? 1 : -1;
    if (x[0] !== y[0]) return x[0] - y[0];
    if (x[1] !== y[1]) return x[1] - y[1];
    if (x[2] !== y[2]) return x[2] < y[2] ? -1 : 1;
  }
  return 0;
}

export interface SeenRequest { readonly path: string; readonly status: number }

/**
 * A Maven repository made from Debian's: every `.pom` and `.jar` under {@link DEBIAN_REPO} with
 * `.sha1` and `.md5` beside it, `maven-metadata.xml` for each artifact and, for the plugin group,
 * one listing plugin prefixes. Held in memory by path and served on 127.0.0.1, logging requests.
 * Tests add artifacts, corrupt bytes and stop the server.
 */
export class MavenFixture {
  readonly files = new Map<string, Buffer>();
  readonly requests: SeenRequest[] = [];
  /** Paths answered with a 302 to another URL (the Gradle Plugin Portal sends jars to Central). */
  readonly redirects = new Map<string, string>();
  private server?: http.Server;
  url = '';

  static async build(): Promise<MavenFixture> {
    const fixture = new MavenFixture();
    const versions = new Map<string, Set<string>>();
    const walk = async (dir: string, rel: string[]): Promise<void> => {
      for (const name of await readdir(dir)) {
        const full = path.join(dir, name);
        const info = await stat(full);
        if (info.isDirectory()) { await walk(full, [...rel, name]); continue; }
        if (!/\.(pom|jar)$/.test(name) || rel.length < 3) continue;
        fixture.put([...rel, name].join('/'), await readFile(await realpath(full)));
        const ga = rel.slice(0, -1).join('/');
        versions.set(ga, (versions.get(ga) ?? new Set()).add(rel[rel.length - 1]!));
      }
    };
    await walk(DEBIAN_REPO, []);
    for (const [ga, set] of versions) {
      const all = [...set].sort(versionOrder);
      fixture.metadata(ga, all.filter(listed).length ? all.filter(listed) : all);
    }
    // Plugin prefixes by Maven's own naming convention (maven-<prefix>-plugin), which Debian's follow.
    const group = 'org/apache/maven/plugins';
    const plugins = [...versions.keys()].filter((ga) => ga.startsWith(`${group}/`)).map((ga) => ga.slice(group.length + 1))
      .map((a) => [a, /^maven-(.+)-plugin$/.exec(a)?.[1]] as const).filter((x): x is readonly [string, string] => x[1] !== undefined);
    fixture.put(`${group}/maven-metadata.xml`, Buffer.from(`<?xml version="1.0" encoding="UTF-8"?>\n<metadata><plugins>${plugins
      .map(([a, p]) => `<plugin><name>${a}</name><prefix>${p}</prefix><artifactId>${a}</artifactId></plugin>`).join('')}</plugins></metadata>\n`));
    return fixture;
  }

  /** Stores a file with its `.sha1` and `.md5`, or without them. */
  put(key: string, body: Buffer, sums = true): void {
    this.files.set(key, body);
    if (sums) for (const alg of ['sha1', 'md5']) this.files.set(`${key}.${alg}`, Buffer.from(hex(alg, body)));
  }

  /** Writes `<ga>/maven-metadata.xml` listing these versions, the last as the release. */
  metadata(ga: string, versions: readonly string[]): void {
    const parts = ga.split('/');
    const last = versions[versions.length - 1]!;
    this.put(`${ga}/maven-metadata.xml`, Buffer.from(`<?xml version="1.0" encoding="UTF-8"?>\n<metadata><groupId>${parts.slice(0, -1).join('.')}</groupId>`
      + `<artifactId>${parts[parts.length - 1]}</artifactId><versioning><latest>${last}</latest><release>${last}</release><versions>`
      + versions.map((v) => `<version>${v}</version>`).join('') + `</versions><lastUpdated>${Date.now()}</lastUpdated></versioning></metadata>\n`));
  }

  /** Requests for `key` since `from` (an index into {@link requests}). */
  asked(key: string, from = 0): number {
    return this.requests.slice(from).filter((r) => r.path === `/${key}`).length;
  }

  async start(): Promise<void> {
    const server = http.createServer((req, res) => {
      const key = decodeURIComponent((req.url ?? '/').split('?')[0]!).slice(1);
      const location = this.redirects.get(key);
      if (location) { this.requests.push({ path: `/${key}`, status: 302 }); res.writeHead(302, { location }).end(); return; }
      const body = this.files.get(key);
      this.requests.push({ path: `/${key}`, status: body ? 200 : 404 });
      if (!body) { res.writeHead(404).end(); return; }
      res.writeHead(200, { 'content-length': body.length, 'content-type': key.endsWith('.xml') || key.endsWith('.pom') ? 'text/xml' : 'application/octet-stream' });
      res.end(req.method === 'HEAD' ? undefined : body);
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    this.server = server;
    this.url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/`;
  }

  /** Stops answering: the port refuses connections, as an upstream that is down. */
  async stop(): Promise<void> {
    const server = this.server;
    this.server = undefined;
    if (!server) return;
    server.closeAllConnections();
    await new Promise<void>((resolve) => server.close(() => resolve()));
  }
}

/** Whether Debian's Maven repository holds what the tests resolve. */
export function debianRepoReady(): boolean {
  return ['org/apache/commons/commons-lang3/3.12.0', 'org/apache/maven/plugins/maven-dependency-plugin/3.5.0', 'junit/junit']
    .every((p) => existsSync(path.join(DEBIAN_REPO, p)));
}
