import { createHash } from 'node:crypto';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { describeFaultMatrix } from '@cacheforge/conformance';
import { bytesFor } from '@cacheforge/core/testing';

const PLUGIN = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');

describeFaultMatrix({
  name: 'plugin-maven',
  plugins: [PLUGIN],
  remotes: (upstream) => ({ central: { type: 'maven', upstream } }),
  targets(upstream, id, size) {
    // A jar with its published sha1 (a miss reads both), and an artifact's metadata.
    const dir = `com/example/a-${id}/1.0`;
    const jar = bytesFor(`a-${id}`, size);
    upstream.set(`/${dir}/a-${id}-1.0.jar`, { body: jar });
    upstream.set(`/${dir}/a-${id}-1.0.jar.sha1`, { body: Buffer.from(createHash('sha1').update(jar).digest('hex')) });
    const meta = Buffer.from(`<?xml version="1.0"?><metadata><!--${'m'.repeat(size)}--><versioning><versions><version>1.0</version></versions></versioning></metadata>\n`);
    upstream.set(`/com/example/m-${id}/maven-metadata.xml`, { body: meta, headers: { 'content-type': 'text/xml' } });
    return [
      { path: `/central/${dir}/a-${id}-1.0.jar`, body: jar, faulty: [`/${dir}/a-${id}-1.0.jar`] },
      { path: `/central/com/example/m-${id}/maven-metadata.xml`, body: meta, faulty: [`/com/example/m-${id}/maven-metadata.xml`], mutable: true },
    ];
  },
});
