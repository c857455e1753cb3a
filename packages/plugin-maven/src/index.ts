import { definePlugin } from '@cacheforge/core';
import { MavenHandler } from './handler.js';
import { mavenClientSetup } from './client-setup.js';

export { parsePath, type MavenPath } from './paths.js';

/**
 * Maven repositories in the Maven 2 layout, which Maven, Gradle, Ivy, sbt and Bazel's
 * rules_jvm_external all read: Maven Central, Google's repository, the Gradle Plugin Portal,
 * or a Nexus / Artifactory / Reposilite repository. Clients point a mirror at `/<remote>/`.
 */
export default definePlugin<Record<string, never>>({
  name: 'maven',
  core: '^0.1.0',
  description: 'Maven repositories (Maven Central, Google, the Gradle Plugin Portal, any Maven 2 layout)',
  options: (z) => z.object({}),
  classes: {
    immutable: [],
    mutable: ['(^|/)maven-metadata\\.xml(\\.[a-z0-9]+)?$', '-SNAPSHOT/(?![^/]*-\\d{8}\\.\\d{6}-\\d+)[^/]+$'],
    fallback: 'immutable',
    ttl: { mutable: 10 * 60_000 },
  },
  defaultRemotes: () => ({
    central: { upstream: 'https://repo.maven.apache.org/maven2/' },
  }),
  clientSetup: (remote, target) => mavenClientSetup(remote, target),
  createHandler(remote, context) {
    const unverified = context.metrics?.counter({
      name: 'unverified_files_total',
      help: 'Release files stored on their length only, because the upstream publishes no sha512, sha256 or sha1 beside them',
    });
    return new MavenHandler(remote.upstream, context.log, { unverified });
  },
});
