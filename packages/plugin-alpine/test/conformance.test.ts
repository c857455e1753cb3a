import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { pluginSuite } from '@cacheforge/conformance';

const PLUGIN = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');

// What apk asks for (an index and a package per repository line and architecture), and what else
// a mirror holds (release images, latest-releases.yaml, the MIRRORS list).
pluginSuite(PLUGIN, {
  cwd: PLUGIN,
  remote: { upstream: 'https://alpine.example/alpine/' },
  samples: [
    'v3.20/main/x86_64/APKINDEX.tar.gz', 'v3.20/main/x86_64/musl-1.2.5-r0.apk', 'v3.20/community/aarch64/APKINDEX.tar.gz',
    'edge/testing/riscv64/hello-0.1-r0.apk', 'latest-stable/main/armv7/APKINDEX.tar.gz',
    'v3.20/releases/x86_64/alpine-minirootfs-3.20.0-x86_64.tar.gz', 'v3.20/releases/x86_64/latest-releases.yaml', 'MIRRORS.txt',
  ],
});
