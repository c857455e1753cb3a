import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { pluginSuite } from '@cacheforge/conformance';

const PLUGIN = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');

// What cargo asks of a sparse registry: config.json, index files of one-, two-, three- and
// longer-named crates (lower case), downloads at the dl this remote writes, and search.
pluginSuite(PLUGIN, {
  cwd: PLUGIN,
  remote: { upstream: 'https://index.crates.io/' },
  samples: [
    'config.json', '1/a', '2/cc', '3/f/fnv', 'it/oa/itoa', 'se/rd/serde_json', 'cf/-t/cf-tampered',
    'crates/fnv/1.0.7/download', 'crates/serde_json/1.0.108/download', 'crates/semver/1.0.0-alpha.1+build.5/download', 'api/v1/crates?q=fnv&per_page=10',
  ],
});
