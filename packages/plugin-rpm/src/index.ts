import { definePlugin } from '@cacheforge/core';
import { rpmClientSetup } from './client-setup.js';
import { RpmHandler } from './handler.js';

/**
 * rpm-md repositories, as dnf, yum, microdnf and zypper read them: Fedora, EPEL, AlmaLinux,
 * Rocky, CentOS Stream, openSUSE. One remote fronts a whole mirror tree; clients set
 * `baseurl=http://cache/<remote>/<folder of the repository>/` (or use its metalink/mirrorlist).
 */
export default definePlugin({
  name: 'rpm',
  core: '^0.1.0',
  description: 'dnf/yum (rpm-md) repositories: Fedora, EPEL, AlmaLinux, Rocky, CentOS Stream, openSUSE',
  classes: {
    immutable: ['(^|/)repodata/[0-9a-f]{32,128}-[^/]+$', '\\.(rpm|drpm)$'],
    mutable: ['(^|/)repodata/'],
    fallback: 'mutable',
    ttl: { mutable: 10 * 60_000 },
  },
  clientSetup: (remote, target) => rpmClientSetup(remote, target),
  createHandler(remote, context) {
    const unlisted = context.metrics?.counter({ name: 'unlisted_packages_total', help: 'Packages stored that no cached primary index listed (checked by length only)' });
    return new RpmHandler(remote.upstream, context.log, unlisted);
  },
});
