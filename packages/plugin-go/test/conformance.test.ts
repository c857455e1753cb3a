import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { pluginSuite } from '@cacheforge/conformance';

const PLUGIN = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');

// What go asks for: version lists and @latest, a version's .info/.mod/.zip (upper case escaped
// as !x), the checksum database through the proxy (supported, lookup, tiles, latest).
pluginSuite(PLUGIN, {
  cwd: PLUGIN,
  remote: { upstream: 'https://proxy.go.example/', sumdb: 'https://sum.go.example/' },
  samples: [
    'github.com/pkg/errors/@v/list', 'github.com/pkg/errors/@latest', 'github.com/pkg/errors/@v/v0.9.1.info',
    'github.com/pkg/errors/@v/v0.9.1.mod', 'github.com/pkg/errors/@v/v0.9.1.zip', 'github.com/!burnt!sushi/toml/@v/v1.2.0.zip',
    'sumdb/sum.golang.org/supported', 'sumdb/sum.golang.org/latest', 'sumdb/sum.golang.org/lookup/github.com/pkg/errors@v0.9.1',
    'sumdb/sum.golang.org/tile/8/0/x001/234', 'sumdb/sum.golang.org/tile/8/1/005.p/12', 'sumdb/sum.golang.org/tile/8/data/x001/234',
  ],
});
