import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { pluginSuite } from '@cacheforge/conformance';

const PLUGIN = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');

// What apt-get asks a Debian archive for: Release files, indexes by name and by hash, pool files.
pluginSuite(PLUGIN, {
  cwd: PLUGIN,
  remote: { upstream: 'http://deb.example/debian/' },
  samples: [
    'dists/bookworm/InRelease', 'dists/bookworm/Release', 'dists/bookworm/Release.gpg',
    'dists/bookworm/main/binary-amd64/Packages.xz', 'dists/bookworm/main/i18n/Translation-en.bz2',
    `dists/bookworm/main/binary-amd64/by-hash/SHA256/${'a'.repeat(64)}`,
    `dists/bookworm/main/binary-amd64/by-hash/SHA512/${'b'.repeat(128)}`,
    'pool/main/h/hello/hello_2.10-3_amd64.deb', 'pool/main/h/hello/hello_2.10-3.dsc', 'pool/main/h/hello/hello_2.10.orig.tar.gz',
  ],
});
