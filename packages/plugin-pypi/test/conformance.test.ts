import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { pluginSuite } from '@cacheforge/conformance';

const PLUGIN = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');

// What pip and uv ask for: the project list, project pages (normalized or not, with and without
// the trailing slash), files on the file host and their PEP 658 metadata, the JSON API.
pluginSuite(PLUGIN, {
  cwd: PLUGIN,
  remote: { upstream: 'https://pypi.example/', files: 'https://files.pypi.example/' },
  samples: [
    'simple/', 'simple', 'simple/requests/', 'simple/Requests/', 'simple/requests', 'simple/zope.interface/',
    'files/requests/packages/f9/9b/335f9764261e915ed497fcdeb11df5dfd6f7bf257d4a6a2a686d80da4d54/requests-2.32.3-py3-none-any.whl',
    'files/requests/packages/f9/9b/335f9764261e915ed497fcdeb11df5dfd6f7bf257d4a6a2a686d80da4d54/requests-2.32.3-py3-none-any.whl.metadata',
    'files/requests/packages/63/70/2bf7780ad2d390a8d301ad0b550f1581eadbd9a20f896afe06353c2a2913/requests-2.32.3.tar.gz',
    'index-files/requests/requests-2.32.3.tar.gz', 'pypi/requests/json', 'pypi/requests/2.32.3/json', 'pypi/Requests/json',
  ],
});
