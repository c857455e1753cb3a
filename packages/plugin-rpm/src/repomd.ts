import type { DigestAlgorithm, ExpectedDigest } from '@cacheforge/core';

/** One `<data>` entry of a `repomd.xml`: a metadata file, its checksum and size. */
export interface RepomdEntry {
  readonly type: string;
  /** Relative to the repository's root (`repodata/<hex>-primary.xml.gz`). */
  readonly href: string;
  readonly digest?: ExpectedDigest;
  readonly size?: number;
}

/** Maps rpm-md's checksum type names to the core's (`sha` is the old name of sha1). */
export function digestAlgorithm(type: string): DigestAlgorithm | undefined {
  switch (type.toLowerCase()) {
    case 'sha': case 'sha1': return 'sha1';
    case 'sha256': return 'sha256';
    case 'sha512': return 'sha512';
    case 'md5': return 'md5';
    default: return undefined;
  }
}

export function expected(type: string, hex: string): ExpectedDigest | undefined {
  const algorithm = digestAlgorithm(type);
  return algorithm && /^[0-9a-fA-F]+$/.test(hex) ? { algorithm, hex: hex.toLowerCase() } : undefined;
}

/** The `<data>` entries of a repomd.xml (a small document: a regex scan is enough and never deep). */
export function parseRepomd(xml: string): RepomdEntry[] {
  const entries: RepomdEntry[] = [];
  for (const match of xml.matchAll(/<data\s+type="([^"]+)"\s*>([\s\S]*?)<\/data>/g)) {
    const body = match[2]!;
    const href = /<location\b[^>]*\bhref="([^"]+)"/.exec(body)?.[1];
    if (!href) continue;
    // `open-checksum` is of the decompressed file; only `checksum` names what is on the wire.
    const checksum = /<checksum\b[^>]*\btype="([^"]+)"[^>]*>\s*([0-9a-fA-F]+)\s*<\/checksum>/.exec(body);
    const size = /<size>\s*(\d+)\s*<\/size>/.exec(body)?.[1];
    entries.push({
      type: match[1]!,
      href: unescapeXml(href),
      digest: checksum ? expected(checksum[1]!, checksum[2]!) : undefined,
      size: size === undefined ? undefined : Number(size),
    });
  }
  return entries;
}

export function unescapeXml(text: string): string {
  return text.replace(/&(lt|gt|quot|apos|amp);/g, (_, e: string) => ({ lt: '<', gt: '>', quot: '"', apos: "'", amp: '&' })[e]!);
}
