import { expect } from 'chai';
import type { ArtifactRequest, CachedRoute, Logger } from '@cacheforge/core';
import { classify } from '@cacheforge/core/testing';
import { MavenHandler } from '../src/handler.js';
import plugin from '../src/index.js';

function req(rawPath: string): ArtifactRequest {
  return {
    method: 'GET', remote: 'central', path: decodeURIComponent(rawPath), segments: rawPath.split('/').map(decodeURIComponent), rawPath, search: '',
    headers: {}, publicBase: new URL('http://cache.example/central/'),
  };
}

describe('plugin-maven: how paths are classified', () => {
  // Classifying logs nothing: a logger that would throw proves it.
  const handler = new MavenHandler(new URL('https://maven.example/maven2/'), {} as Logger, {});
  const route = (p: string) => handler.canHandle(req(p)) as CachedRoute | undefined;

  const cases: Array<[string, 'immutable' | 'mutable']> = [
    ['org/apache/commons/commons-lang3/3.12.0/commons-lang3-3.12.0.jar', 'immutable'],
    ['org/apache/commons/commons-lang3/3.12.0/commons-lang3-3.12.0.pom.sha1', 'immutable'],
    ['org/apache/commons/commons-lang3/3.12.0/commons-lang3-3.12.0.jar.asc', 'immutable'],
    ['org/apache/commons/commons-lang3/maven-metadata.xml', 'mutable'],
    ['org/apache/commons/commons-lang3/maven-metadata.xml.sha1', 'mutable'],
    ['org/apache/maven/plugins/maven-metadata.xml', 'mutable'],
    ['com/example/lib/1.0-SNAPSHOT/maven-metadata.xml', 'mutable'],
    ['com/example/lib/1.0-SNAPSHOT/lib-1.0-SNAPSHOT.jar', 'mutable'],
    ['com/example/lib/1.0-SNAPSHOT/lib-1.0-SNAPSHOT.jar.sha1', 'mutable'],
    ['com/example/lib/1.0-SNAPSHOT/lib-1.0-20240102.030405-7.jar', 'immutable'],
    ['com/example/lib/1.0-SNAPSHOT/lib-1.0-20240102.030405-7-sources.jar.sha1', 'immutable'],
  ];
  for (const [p, cls] of cases) {
    it(`${p} is ${cls}, by the handler and by the format's declared classes alike`, () => {
      expect(route(p)).to.include({ kind: 'cached', key: p, class: cls });
      expect(classify(plugin, p).class).to.equal(cls);
    });
  }

  it('a folder, a file outside group/artifact/version, or a hidden segment is not part of the repository', () => {
    for (const p of ['org/apache/commons/', 'commons-lang3.jar', 'org/x/1.0.jar', 'org/x/.git/1/x.jar', 'org/x/1.0/maven-metadata.xml.asc']) {
      expect(route(p), p).to.equal(undefined);
    }
  });
});
