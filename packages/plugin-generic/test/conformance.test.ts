import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { pluginSuite } from '@cacheforge/conformance';

const PLUGIN = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');

// A file server's real paths: release archives, their checksums and signatures, a repository's
// index files, a directory listing, a query that selects a mirror.
pluginSuite(PLUGIN, {
  cwd: PLUGIN,
  remote: { upstream: 'https://archive.example/dist/' },
  samples: [
    'hadoop/common/hadoop-3.4.0/hadoop-3.4.0.tar.gz', 'hadoop/common/hadoop-3.4.0/hadoop-3.4.0.tar.gz.sha512',
    'hadoop/common/hadoop-3.4.0/hadoop-3.4.0.tar.gz.asc', 'hadoop/common/', 'SHA256SUMS', 'KEYS',
    'debian/dists/bookworm/InRelease', 'debian/pool/main/c/curl/curl_7.88.1-10_amd64.deb', 'cd/12.5.0/amd64/iso-cd/debian-12.5.0-amd64-netinst.iso',
  ],
});
