import { expect } from 'chai';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { LogCapture, requirePrograms, runClient, skipMissing, startCacheForge, type RunningCacheForge } from '@cacheforge/core/testing';
import maven from '../src/index.js';
import { debianRepoReady, MavenFixture } from './support/maven-fixture.js';

const ADMIN = 'maven-setup-test-admin-token-0123456789';
const GET = ['org.apache.maven.plugins:maven-dependency-plugin:3.5.0:get', '-Dartifact=org.apache.commons:commons-lang3:3.12.0'];

interface Setup { tokenRequired: boolean; snippets: { client: string; file?: string; text: string }[] }

describe('plugin-maven: the settings.xml /-/setup serves, driven by real mvn -C (reads need a token)', function () {
  this.timeout(600_000);
  let fixture: MavenFixture;
  let cf: RunningCacheForge;
  let work: string;
  let token: string;
  let otherToken: string;
  let setup: Setup;
  const log = new LogCapture();
  let runs = 0;

  async function makeToken(name: string, remotes: string[]): Promise<string> {
    const res = await fetch(`${cf.url}/-/api/v1/tokens`, { method: 'POST', headers: { authorization: `Bearer ${ADMIN}`, 'content-type': 'application/json' }, body: JSON.stringify({ name, scopes: ['read'], remotes }) });
    expect(res.status).to.equal(201);
    return (await res.json() as { token: string }).token;
  }

  before(async function () {
    requirePrograms(this, ['mvn'], () => 'apt-get install maven libmaven-dependency-plugin-java junit4');
    if (!debianRepoReady()) skipMissing(this, 'Debian\'s Maven repository', 'apt-get install maven libmaven-dependency-plugin-java junit4');
    fixture = await MavenFixture.build();
    await fixture.start();
    const remote = { type: 'maven', upstream: fixture.url, client: { retries: 0 } };
    cf = await startCacheForge({
      auth: { anonymousRead: false, adminTokens: [ADMIN] }, plugins: ['@cacheforge/plugin-maven'], remotes: { maven: remote, other: remote }, log: { requests: true },
    }, { logTo: log, logLevel: 'debug' });
    token = await makeToken('mvn-ci', ['maven']);
    otherToken = await makeToken('mvn-other', ['other']);
    const res = await fetch(`${cf.url}/-/api/v1/remotes/maven/setup`, { headers: { authorization: `Bearer ${token}` } });
    expect(res.status).to.equal(200);
    setup = await res.json() as Setup;
    work = await mkdtemp(path.join(tmpdir(), 'cf-mvn-setup-'));
    await writeFile(path.join(work, 'global.xml'), '<settings/>\n');
  });
  after(async () => {
    await cf?.cleanup();
    await fixture?.stop();
    if (work) await rm(work, { recursive: true, force: true });
  });

  const snippet = (file: string) => setup.snippets.find((s) => s.file === file)!.text;

  /** `mvn -C` with the served settings.xml as user settings (the placeholder replaced by `secret`, or the `<servers>` taken out) and a fresh local repository. */
  async function mvn(secret: string | undefined) {
    const n = ++runs;
    const served = snippet('~/.m2/settings.xml');
    const settings = path.join(work, `settings-${n}.xml`);
    await writeFile(settings, secret ? served.replace('<TOKEN>', secret) : served.replace(/ {2}<servers>[\s\S]*<\/servers>\n/, ''));
    return runClient('mvn', ['-B', '-ntp', '-C', '-s', settings, '-gs', path.join(work, 'global.xml'), `-Dmaven.repo.local=${path.join(work, `m2-${n}`)}`, ...GET],
      { cwd: work, env: { ...process.env, MAVEN_OPTS: '' }, timeoutMs: 300_000 });
  }

  it('serves a mirror of every repository with a <server> of the same id holding the placeholder', () => {
    expect(setup.tokenRequired).to.equal(true);
    const xml = snippet('~/.m2/settings.xml');
    expect(xml).to.contain('<id>cacheforge-maven</id>').and.contain('<mirrorOf>*</mirrorOf>').and.contain(`<url>${cf.url}/maven/</url>`);
    expect(xml).to.contain('<username>any</username>').and.contain('<password><TOKEN></password>').and.not.contain(token);
  });

  it('mvn -C dependency:get succeeds with the served settings.xml, the token put in', async () => {
    const r = await mvn(token);
    expect(r.output).to.include('BUILD SUCCESS');
  });

  it('without the <server>, mvn is refused with a 401', async () => {
    const r = await mvn(undefined);
    expect(r.output).to.include('BUILD FAILURE');
    expect(r.output).to.match(/status code: 401|401 Unauthorized/);
  });

  it('with a token limited to another remote, mvn is refused with a 403', async () => {
    const r = await mvn(otherToken);
    expect(r.output).to.include('BUILD FAILURE');
    expect(r.output).to.match(/status code: 403|403 Forbidden/);
  });

  it('no token ever appears in the log', () => {
    const text = log.lines.map((l) => JSON.stringify(l)).join('\n');
    expect(log.requests.length).to.be.greaterThan(0);
    for (const secret of [token, otherToken, ADMIN]) expect(text).to.not.contain(secret);
  });

  // Gradle is not driven: Debian's gradle 4.4.1 fails on Java 17, the only Java here. Its text is checked for shape.
  it('Gradle: a maven { } repository in both DSLs with credentials from gradle.properties (text only: no runnable Gradle here)', () => {
    const groovy = snippet('build.gradle');
    expect(groovy).to.equal(`repositories {\n  maven {\n    name = 'cacheforgeMaven'\n    url = '${cf.url}/maven/'\n    allowInsecureProtocol = true\n    credentials(PasswordCredentials)\n  }\n}\n`);
    const kotlin = snippet('build.gradle.kts');
    expect(kotlin).to.equal(`repositories {\n  maven {\n    name = "cacheforgeMaven"\n    url = uri("${cf.url}/maven/")\n    isAllowInsecureProtocol = true\n    credentials(PasswordCredentials::class)\n  }\n}\n`);
    expect(snippet('~/.gradle/gradle.properties')).to.equal('cacheforgeMavenUsername=any\ncacheforgeMavenPassword=<TOKEN>\n');
    for (const text of [groovy, kotlin]) expect(text.split('{').length).to.equal(text.split('}').length);
  });

  it('a mirror of Central is a mirror of central; the Gradle Plugin Portal goes in settings.gradle pluginManagement', () => {
    const https = { base: new URL('https://cache.lan/central/') };
    const central = maven.clientSetup!({ name: 'central', upstream: new URL('https://repo.maven.apache.org/maven2/'), options: {} }, https);
    expect(central[0]!.text).to.contain('<mirrorOf>central</mirrorOf>').and.not.contain('<servers>');
    expect(central.map((s) => s.file)).to.deep.equal(['~/.m2/settings.xml', 'build.gradle', 'build.gradle.kts']);
    expect(central[1]!.text).to.not.contain('allowInsecureProtocol').and.not.contain('credentials');
    const portal = maven.clientSetup!({ name: 'gradle-plugins', upstream: new URL('https://plugins.gradle.org/m2/'), options: {} }, { base: new URL('https://cache.lan/gradle-plugins/') });
    expect(portal[1]!).to.deep.include({ file: 'settings.gradle' });
    expect(portal[1]!.text).to.equal("pluginManagement {\n  repositories {\n    maven {\n      name = 'cacheforgeGradlePlugins'\n      url = 'https://cache.lan/gradle-plugins/'\n    }\n  }\n}\n");
    expect(portal[2]!).to.deep.include({ file: 'settings.gradle.kts' });
  });
});
