import { createHash } from 'node:crypto';
import { cfError, type ArtifactRequest, type CacheStatus, type LoadedDocument } from '@cacheforge/core';

export type MirrorKind = 'metalink' | 'mirrorlist';

/**
 * The repository a stock repo file's `metalink=`/`mirrorlist=` URL names, as a folder of the
 * mirror tree: Fedora's `repo=fedora-40` and `repo=updates-released-f40`, EPEL's `repo=epel-9`,
 * Rocky's `repo=BaseOS-9`, AlmaLinux's `mirrorlist/9/baseos`, or any folder as `path=`.
 */
export function repositoryFolder(req: ArtifactRequest): string | undefined {
  const query = new URLSearchParams(req.search);
  const explicit = query.get('path');
  if (explicit !== null) return /^(?!\/)(?!.*(^|\/)\.\.?(\/|$))[^?#\\]*\/$/.test(explicit) ? explicit : undefined;
  const arch = query.get('arch') ?? '$basearch';
  if (!/^[\w$]+$/.test(arch)) return undefined;
  if (req.segments[0] === 'mirrorlist' && req.segments.length === 3) {
    const [, version, repo] = req.segments;
    if (!/^[\w.]+$/.test(version!) || !/^[\w-]+$/.test(repo!)) return undefined;
    return `${version}/${ENTERPRISE[repo!.toLowerCase()] ?? repo}/${arch}/os/`;
  }
  const repo = query.get('repo') ?? '';
  let m: RegExpExecArray | null;
  if ((m = /^fedora-(\d+|rawhide)$/.exec(repo))) return `releases/${m[1]}/Everything/${arch}/os/`;
  if ((m = /^updates-released-f(\d+)$/.exec(repo))) return `updates/${m[1]}/Everything/${arch}/`;
  if ((m = /^epel-(\d+)$/.exec(repo))) return `${m[1]}/Everything/${arch}/`;
  if ((m = /^([A-Za-z]+)-([\d.]+)$/.exec(repo))) return `${m[2]}/${ENTERPRISE[m[1]!.toLowerCase()] ?? m[1]}/${arch}/os/`;
  return undefined;
}

/** Enterprise Linux repository ids in their folder spelling. */
const ENTERPRISE: Record<string, string> = {
  baseos: 'BaseOS', appstream: 'AppStream', crb: 'CRB', powertools: 'PowerTools', extras: 'extras', highavailability: 'HighAvailability',
};

export interface MirrorDocument {
  readonly body: string;
  readonly contentType: string;
  readonly cacheStatus: CacheStatus;
}

/** A metalink or mirrorlist naming only this cache, with the hashes of the repomd.xml it serves. */
export async function mirrorDocument(kind: MirrorKind, req: ArtifactRequest, repomd: (root: string) => Promise<LoadedDocument>): Promise<MirrorDocument> {
  const root = repositoryFolder(req);
  if (root === undefined) throw cfError('CF_ERR_NOT_FOUND', `${kind}: name the repository as repo=<id>&arch=<arch> or path=<folder>/`);
  const base = req.publicBase.href + root;
  if (kind === 'mirrorlist') return { body: `${base}\n`, contentType: 'text/plain; charset=utf-8', cacheStatus: 'BYPASS' };
  const doc = await repomd(root);
  const stamps = [...doc.body.toString('utf8').matchAll(/<timestamp>\s*(\d+)\s*<\/timestamp>/g)].map((m) => Number(m[1]));
  const timestamp = stamps.length ? Math.max(...stamps) : Math.floor(Date.now() / 1000);
  const hashes = (['md5', 'sha1', 'sha256', 'sha512'] as const)
    .map((a) => `        <hash type="${a}">${createHash(a).update(doc.body).digest('hex')}</hash>`).join('\n');
  const url = escapeXml(`${base}repodata/repomd.xml`);
  const body = `<?xml version="1.0" encoding="utf-8"?>
<metalink version="3.0" xmlns="http://www.metalinker.org/" type="dynamic" xmlns:mm0="http://fedorahosted.org/mirrormanager" generator="cacheforge">
  <files>
    <file name="repomd.xml">
      <mm0:timestamp>${timestamp}</mm0:timestamp>
      <size>${doc.body.length}</size>
      <verification>
${hashes}
      </verification>
      <resources maxconnections="1">
        <url protocol="${req.publicBase.protocol.slice(0, -1)}" type="${req.publicBase.protocol.slice(0, -1)}" location="XX" preference="100">${url}</url>
      </resources>
    </file>
  </files>
</metalink>
`;
  return { body, contentType: 'application/metalink+xml', cacheStatus: doc.cacheStatus };
}

function escapeXml(text: string): string {
  return text.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');
}
