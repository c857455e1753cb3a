import { expect } from 'chai';
import { createHash } from 'node:crypto';
import { existsSync } from 'node:fs';
import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import {
  ManualClock, request, requirePrograms, runClient, skipMissing, startCacheForge, waitFor, type ClientRun, type RunningCacheForge,
} from '@cacheforge/core/testing';
import { debianRepoReady, MavenFixture } from './support/maven-fixture.js';

/** Metadata is revalidated after this long; the tests move the clock past it, never wait. */
const TTL_MS = 60_000;
const clock = new ManualClock();
const sha1 = (b: Buffer) => createHash('sha1').update(b).digest('hex');
const DEPENDENCY_PLUGIN = 'org.apache.maven.plugins:maven-dependency-plugin:3.5.0';
const LANG3 = 'org/apache/commons/commons-lang3';

describe('plugin-maven: real mvn -C through Cache Forge against a repository made from Debian\'s', function () {
  this.timeout(600_000);
  let fixture: MavenFixture;
  let cf: RunningCacheForge;
  let work: string;
  let project: string;
  let runs = 0;

  before(async function () {
    requirePrograms(this, ['mvn'], () => 'apt-get install maven libmaven-dependency-plugin-java junit4');
    if (!debianRepoReady()) skipMissing(this, 'Debian\'s Maven repository', 'apt-get install maven libmaven-dependency-plugin-java junit4');
    fixture = await MavenFixture.build();
    await fixture.start();
    cf = await startCacheForge({
      plugins: ['@cacheforge/plugin-maven'],
      remotes: { maven: { type: 'maven', upstream: fixture.url, ttl: { mutable: `${TTL_MS}ms`, negative: '1h' }, client: { retries: 0 } } },
    }, { clock });
    work = await mkdtemp(path.join(tmpdir(), 'cf-mvn-'));
    project = path.join(work, 'project');
    await mkdir(project);
    // A plain pom project whose one dependency is a range: resolved through maven-metadata.xml.
    await writeFile(path.join(project, 'pom.xml'), `<project xmlns="http://maven.apache.org/POM/4.0.0"><modelVersion>4.0.0</modelVersion>
<groupId>test.cacheforge</groupId><artifactId>range</artifactId><version>1</version><packaging>pom</packaging>
<dependencies><dependency><groupId>org.apache.commons</groupId><artifactId>commons-lang3</artifactId><version>[3.0,4.0)</version></dependency></dependencies>
</project>\n`);
    await writeFile(path.join(work, 'global.xml'), '<settings/>\n');
  });
  after(async () => {
    await cf?.cleanup();
    await fixture?.stop();
    if (work) await rm(work, { recursive: true, force: true });
  });

  /** mvn with strict checksums, a fresh local repository, and a mirror of everything at `repo`. */
  async function mvn(repo: string, args: string[], m2 = path.join(work, `m2-${++runs}`)): Promise<ClientRun & { m2: string; ms: number }> {
    const settings = path.join(work, `settings-${runs}.xml`);
    await writeFile(settings, `<settings><mirrors><mirror><id>cacheforge</id><mirrorOf>*</mirrorOf><url>${repo}</url></mirror></mirrors></settings>\n`);
    const started = process.hrtime.bigint();
    const r = await runClient('mvn', ['-B', '-ntp', '-C', '-s', settings, '-gs', path.join(work, 'global.xml'), `-Dmaven.repo.local=${m2}`, ...args],
      { cwd: project, env: { ...process.env, MAVEN_OPTS: '' }, timeoutMs: 300_000 });
    return { ...r, m2, ms: Number(process.hrtime.bigint() - started) / 1e6 };
  }
  const through = () => `${cf.url}/maven/`;

  it('dependency:resolve of a project with a version range resolves 3.12.0 directly, through a cold cache and through a warm one', async () => {
    const direct = await mvn(fixture.url, [`${DEPENDENCY_PLUGIN}:resolve`]);
    const cold = await mvn(through(), [`${DEPENDENCY_PLUGIN}:resolve`]);
    await cf.fillsSettled();
    const asked = fixture.requests.length;
    const warm = await mvn(through(), [`${DEPENDENCY_PLUGIN}:resolve`]);
    for (const r of [direct, cold, warm]) {
      expect(r.output).to.include('BUILD SUCCESS');
      expect(r.output).to.include('org.apache.commons:commons-lang3:jar:3.12.0:compile');
    }
    // Warm: every file and every metadata (still fresh) came from the cache.
    expect(fixture.requests.length - asked).to.equal(0);
    console.log(`      dependency:resolve (fresh local repository each): direct ${Math.round(direct.ms)} ms, cold cache ${Math.round(cold.ms)} ms, warm cache ${Math.round(warm.ms)} ms`);
  });

  it('dependency:get stores the jar and pom with sha1 sidecars that match them', async () => {
    const r = await mvn(through(), [`${DEPENDENCY_PLUGIN}:get`, '-Dartifact=org.apache.commons:commons-lang3:3.12.0']);
    expect(r.output).to.include('BUILD SUCCESS');
    const dir = path.join(r.m2, LANG3, '3.12.0');
    for (const ext of ['jar', 'pom']) {
      const body = await readFile(path.join(dir, `commons-lang3-3.12.0.${ext}`));
      expect((await readFile(path.join(dir, `commons-lang3-3.12.0.${ext}.sha1`), 'utf8')).trim()).to.equal(sha1(body));
    }
  });

  it('a plugin prefix (dependency:resolve) is found through the group\'s maven-metadata.xml', async () => {
    const r = await mvn(through(), ['dependency:resolve']);
    expect(r.output).to.include('BUILD SUCCESS');
    expect(r.output).to.include('org.apache.commons:commons-lang3:jar:3.12.0:compile');
    const group = await request(`${cf.url}/maven/org/apache/maven/plugins/maven-metadata.xml`);
    expect(group.body.toString()).to.include('<prefix>dependency</prefix>');
  });

  it('a jar whose bytes differ from its .sha1 is never served whole nor stored: mvn fails twice, the cache answers 502', async () => {
    const key = 'org/cacheforge/corrupt/1.0/corrupt-1.0';
    fixture.put(`${key}.pom`, Buffer.from('<project><modelVersion>4.0.0</modelVersion><groupId>org.cacheforge</groupId><artifactId>corrupt</artifactId><version>1.0</version></project>\n'));
    fixture.put(`${key}.jar`, Buffer.from('the bytes the checksum was made of'));
    fixture.files.set(`${key}.jar`, Buffer.from('other bytes, as long as those.....'));
    for (let i = 0; i < 2; i++) {
      const r = await mvn(through(), [`${DEPENDENCY_PLUGIN}:get`, '-Dartifact=org.cacheforge:corrupt:1.0']);
      expect(r.output).to.include('BUILD FAILURE');
      expect(existsSync(path.join(r.m2, `${key}.jar`))).to.equal(false);
      const direct = await request(`${cf.url}/maven/${key}.jar`);
      expect(direct.status).to.equal(502);
      expect(direct.body.toString()).to.not.include('other bytes');
    }
  });

  it('a maven-metadata.xml checksum always matches the copy served', async () => {
    const body = (await request(`${cf.url}/maven/${LANG3}/maven-metadata.xml`)).body;
    expect((await request(`${cf.url}/maven/${LANG3}/maven-metadata.xml.sha1`)).body.toString()).to.equal(sha1(body));
    expect((await request(`${cf.url}/maven/${LANG3}/maven-metadata.xml.md5`)).body.toString()).to.equal(createHash('md5').update(body).digest('hex'));
  });

  it('a remembered 404 answers without the upstream until the artifact\'s metadata changes; then the new version is found', async () => {
    const ga = 'org/cacheforge/fresh';
    const pom = (v: string) => Buffer.from(`<project><modelVersion>4.0.0</modelVersion><groupId>org.cacheforge</groupId><artifactId>fresh</artifactId><version>${v}</version></project>\n`);
    fixture.put(`${ga}/1.0/fresh-1.0.pom`, pom('1.0'));
    fixture.metadata(ga, ['1.0']);
    expect((await request(`${cf.url}/maven/${ga}/maven-metadata.xml`)).status).to.equal(200);
    // A forget covers the 404s remembered at or before its moment: the probe comes a moment later.
    clock.advance(1);
    expect((await request(`${cf.url}/maven/${ga}/2.0/fresh-2.0.pom`)).status).to.equal(404);
    const from = fixture.requests.length;
    fixture.put(`${ga}/2.0/fresh-2.0.pom`, pom('2.0'));
    fixture.metadata(ga, ['1.0', '2.0']);
    expect((await request(`${cf.url}/maven/${ga}/2.0/fresh-2.0.pom`)).status).to.equal(404);
    expect(fixture.asked(`${ga}/2.0/fresh-2.0.pom`, from)).to.equal(0);
    await cf.fillsSettled();
    clock.advance(TTL_MS + 1);
    const meta = await request(`${cf.url}/maven/${ga}/maven-metadata.xml`);
    expect(meta.body.toString()).to.include('<version>2.0</version>');
    // The metadata's checksum follows the new copy, never the old one (`mvn -C` would fail on it).
    expect((await request(`${cf.url}/maven/${ga}/maven-metadata.xml.sha1`)).body.toString()).to.equal(sha1(meta.body));
    const found = await request(`${cf.url}/maven/${ga}/2.0/fresh-2.0.pom`);
    expect(found.status).to.equal(200);
    expect(found.body.equals(pom('2.0'))).to.equal(true);
  });

  it('a release the upstream publishes no checksum for is stored on its length and counted', async () => {
    const key = 'org/cacheforge/nosum/1.0/nosum-1.0.jar';
    fixture.put(key, Buffer.from('no sidecar beside me'), false);
    const r = await request(`${cf.url}/maven/${key}`);
    expect(r.status).to.equal(200);
    await waitFor('the unverified counter', async () => /cacheforge_maven_unverified_files_total\{[^}]*remote="maven"[^}]*\} 1\b/
      .test((await request(`${cf.url}/-/metrics`)).body.toString()), 10_000);
  });

  it('a snapshot rebuilt under its plain name is served anew once revalidated, verified against its new .sha1', async () => {
    const key = 'org/cacheforge/snap/1.0-SNAPSHOT/snap-1.0-SNAPSHOT.jar';
    fixture.put(key, Buffer.from('first build'));
    expect((await request(`${cf.url}/maven/${key}`)).body.toString()).to.equal('first build');
    expect((await request(`${cf.url}/maven/${key}.sha1`)).body.toString()).to.equal(sha1(Buffer.from('first build')));
    fixture.put(key, Buffer.from('second build, longer'));
    await cf.fillsSettled();
    clock.advance(TTL_MS + 1);
    const rebuilt = await request(`${cf.url}/maven/${key}`);
    expect(rebuilt.status).to.equal(200);
    expect(rebuilt.body.toString()).to.equal('second build, longer');
  });

  it('with the upstream stopped, a clean local repository fills again from the cache; metadata is served STALE', async () => {
    await cf.fillsSettled();
    await fixture.stop();
    clock.advance(TTL_MS + 1);
    const r = await mvn(through(), [`${DEPENDENCY_PLUGIN}:resolve`]);
    expect(r.output).to.include('BUILD SUCCESS');
    expect(r.output).to.include('org.apache.commons:commons-lang3:jar:3.12.0:compile');
    const meta = await request(`${cf.url}/maven/${LANG3}/maven-metadata.xml`);
    expect(meta.status).to.equal(200);
    expect(meta.headers['x-cache-status']).to.equal('STALE');
  });
});
