import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { pluginSuite } from '@cacheforge/conformance';

const PLUGIN = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');

// What dnf asks for below one mirror tree: repomd.xml and its signature, checksum-named and
// plain metadata, packages at Fedora's, EPEL's, Enterprise Linux's and openSUSE's places, and
// the generated metalink and mirrorlists.
pluginSuite(PLUGIN, {
  cwd: PLUGIN,
  remote: { upstream: 'https://rpm.example/pub/fedora/linux/' },
  samples: [
    'releases/40/Everything/x86_64/os/repodata/repomd.xml', 'releases/40/Everything/x86_64/os/repodata/repomd.xml.asc',
    `releases/40/Everything/x86_64/os/repodata/${'a'.repeat(64)}-primary.xml.gz`, `updates/40/Everything/x86_64/repodata/${'b'.repeat(64)}-updateinfo.xml.zck`,
    'releases/40/Everything/x86_64/os/repodata/comps.xml', 'releases/40/Everything/x86_64/os/Packages/h/hello-2.12.1-4.fc40.x86_64.rpm',
    '9/BaseOS/x86_64/os/Packages/bash-5.1.8-9.el9.x86_64.rpm', 'tumbleweed/repo/oss/noarch/hello-doc-1.0-1.noarch.rpm',
    'releases/40/Everything/source/tree/Packages/h/hello-2.12.1-4.fc40.src.rpm', 'updates/40/Everything/x86_64/drpms/hello-1-2.x86_64.drpm',
    'releases/40/Everything/x86_64/os/.treeinfo', 'metalink?repo=fedora-40&arch=x86_64', 'mirrorlist/9/baseos',
  ],
});
