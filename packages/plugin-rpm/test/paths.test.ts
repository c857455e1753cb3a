import { expect } from 'chai';
import { packageRoots, parsePath } from '../src/paths.js';

describe('plugin-rpm: a path finds its repository by its shape', () => {
  it('a package under Packages/ belongs to the folder above it; a flat or openSUSE package to its folder or the one above', () => {
    expect(packageRoots('releases/40/Everything/x86_64/os/Packages/h/hello-2.12-1.fc40.x86_64.rpm')[0]).to.equal('releases/40/Everything/x86_64/os/');
    expect(packageRoots('9/BaseOS/x86_64/os/Packages/bash-5.1.8-9.el9.x86_64.rpm')[0]).to.equal('9/BaseOS/x86_64/os/');
    expect(packageRoots('tumbleweed/repo/oss/noarch/hello-1-1.noarch.rpm')).to.deep.equal(['tumbleweed/repo/oss/noarch/', 'tumbleweed/repo/oss/', 'tumbleweed/repo/']);
  });

  it('classifies repodata by name: repomd.xml, its signature, checksum-named and plain files', () => {
    const root = 'updates/40/Everything/x86_64/';
    expect(parsePath(`${root}repodata/repomd.xml`)).to.deep.equal({ kind: 'repomd', root });
    expect(parsePath(`${root}repodata/repomd.xml.asc`)).to.deep.equal({ kind: 'signature', root });
    expect(parsePath(`${root}repodata/${'c'.repeat(64)}-updateinfo.xml.zck`)).to.deep.equal({ kind: 'hashed', root, href: `repodata/${'c'.repeat(64)}-updateinfo.xml.zck` });
    expect(parsePath(`${root}repodata/comps.xml`)).to.deep.equal({ kind: 'metadata', root });
    expect(parsePath(`${root}drpms/hello-1-2.x86_64.drpm`)?.kind).to.equal('package');
  });
});
