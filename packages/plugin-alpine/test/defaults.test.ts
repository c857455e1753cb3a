import { expect } from 'chai';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { loadConfig } from '@cacheforge/core';

describe('plugin-alpine: embedded defaults', () => {
  it('serves Alpine\'s CDN at /alpine/ with no config file, valid as config', async () => {
    // The workspace root: no config file there, and the installed plugins are discovered.
    const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../..');
    const { config } = await loadConfig({ cwd: root, env: {} });
    const alpine = Object.values(config.remotes).filter((r) => r.type === 'alpine');
    expect(alpine.map((r) => [r.name, r.upstream.href])).to.deep.equal([['alpine', 'https://dl-cdn.alpinelinux.org/alpine/']]);
  });
});
