import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { pluginSuite } from '@cacheforge/conformance';

const PLUGIN = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');

// What Maven and Gradle ask for: files and their sidecars, metadata at every level, snapshots.
pluginSuite(PLUGIN, {
  cwd: PLUGIN,
  remote: { upstream: 'https://maven.example/maven2/' },
  samples: [
    'org/apache/commons/commons-lang3/3.12.0/commons-lang3-3.12.0.jar',
    'org/apache/commons/commons-lang3/3.12.0/commons-lang3-3.12.0.pom.sha1',
    'org/apache/commons/commons-lang3/3.12.0/commons-lang3-3.12.0.jar.asc',
    'org/apache/commons/commons-lang3/maven-metadata.xml', 'org/apache/commons/commons-lang3/maven-metadata.xml.sha1',
    'org/apache/maven/plugins/maven-metadata.xml', 'com/example/lib/1.0-SNAPSHOT/maven-metadata.xml',
    'com/example/lib/1.0-SNAPSHOT/lib-1.0-SNAPSHOT.jar', 'com/example/lib/1.0-SNAPSHOT/lib-1.0-20240102.030405-7.jar',
    'org/apache/commons/', 'commons-lang3.jar',
  ],
});
