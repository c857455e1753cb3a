import type { RemoteDefinition, SetupSnippet, SetupTarget } from '@cacheforge/core';

const CENTRAL_HOSTS = new Set(['repo.maven.apache.org', 'repo1.maven.org']);
const PLUGIN_PORTAL = 'plugins.gradle.org';

/** The `settings.xml` mirror (and `<server>` when reads need a token) that sends Maven to the remote. */
function settingsXml(remote: RemoteDefinition, target: SetupTarget): string {
  const id = `cacheforge-${remote.name}`;
  // A mirror of Central replaces exactly the `central` of Maven's super POM; any other upstream
  // takes every repository, and an exact id (`central` of another remote's mirror) still wins over `*`.
  const central = CENTRAL_HOSTS.has(remote.upstream.hostname);
  const mirrorOf = central ? 'central' : '*';
  const note = central ? '' : '      <!-- every repository a build names; list ids (central,google) to send only those -->\n';
  const server = target.token
    ? `  <servers>\n    <server>\n      <id>${id}</id>\n      <username>any</username>\n      <password>${target.token}</password>\n    </server>\n  </servers>\n`
    : '';
  return `<settings>\n  <mirrors>\n    <mirror>\n      <id>${id}</id>\n${note}      <mirrorOf>${mirrorOf}</mirrorOf>\n      <url>${target.base.href}</url>\n    </mirror>\n  </mirrors>\n${server}</settings>\n`;
}

/** The Gradle repository's name, which also names its credential properties (`<name>Username`, `<name>Password`). */
function gradleName(remote: string): string {
  return `cacheforge${remote.split(/[^A-Za-z0-9]+/).filter(Boolean).map((w) => w[0]!.toUpperCase() + w.slice(1)).join('')}`;
}

/** `maven { ... }` in the Groovy or Kotlin DSL at `indent`: the URL, plain http allowed when it is http, credentials from gradle.properties. */
function gradleRepository(kotlin: boolean, name: string, target: SetupTarget, indent: string): string {
  const http = target.base.protocol === 'http:';
  const lines = kotlin
    ? [`name = "${name}"`, `url = uri("${target.base.href}")`, ...(http ? ['isAllowInsecureProtocol = true'] : []), ...(target.token ? ['credentials(PasswordCredentials::class)'] : [])]
    : [`name = '${name}'`, `url = '${target.base.href}'`, ...(http ? ['allowInsecureProtocol = true'] : []), ...(target.token ? ['credentials(PasswordCredentials)'] : [])];
  return `${indent}maven {\n${lines.map((l) => `${indent}  ${l}\n`).join('')}${indent}}\n`;
}

/** The Gradle Plugin Portal goes in `settings.gradle`'s `pluginManagement`; any other repository in `build.gradle`. */
function gradleBlock(kotlin: boolean, name: string, target: SetupTarget, plugins: boolean): string {
  if (!plugins) return `repositories {\n${gradleRepository(kotlin, name, target, '  ')}}\n`;
  return `pluginManagement {\n  repositories {\n${gradleRepository(kotlin, name, target, '    ')}  }\n}\n`;
}

/**
 * `settings.xml` for Maven, and Gradle's repository in both DSLs: in `settings.gradle`'s
 * `pluginManagement` for the Gradle Plugin Portal, else in `build.gradle`'s `repositories`. When
 * reads need a token, Maven gets a `<server>` with the mirror's id (Basic, any user name, the
 * token as password), and Gradle `credentials(PasswordCredentials)`, which reads the
 * repository's `<name>Username`/`<name>Password` from `gradle.properties`, so no build file holds it.
 */
export function mavenClientSetup(remote: RemoteDefinition, target: SetupTarget): SetupSnippet[] {
  const name = gradleName(remote.name);
  const plugins = remote.upstream.hostname === PLUGIN_PORTAL;
  const file = plugins ? 'settings.gradle' : 'build.gradle';
  const snippets: SetupSnippet[] = [
    { client: 'Maven', file: '~/.m2/settings.xml', text: settingsXml(remote, target) },
    { client: 'Gradle (Groovy DSL)', file, text: gradleBlock(false, name, target, plugins) },
    { client: 'Gradle (Kotlin DSL)', file: `${file}.kts`, text: gradleBlock(true, name, target, plugins) },
  ];
  if (target.token) snippets.push({ client: 'Gradle (the token)', file: '~/.gradle/gradle.properties', text: `${name}Username=any\n${name}Password=${target.token}\n` });
  return snippets;
}
