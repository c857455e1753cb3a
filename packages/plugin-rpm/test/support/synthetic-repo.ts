import { createHash } from 'node:crypto';
import { gzipSync } from 'node:zlib';
import type { FakeUpstream } from '@cacheforge/core/testing';

export interface SyntheticPackage {
  /** Relative to the repository root (`Packages/h/hello-1.0-1.noarch.rpm`). */
  readonly href: string;
  readonly bytes: Buffer;
  /** Checksum type primary gives (default sha256). */
  readonly checksum?: 'sha256' | 'sha1' | 'sha512';
  /** Bytes the upstream serves instead of `bytes` (a tampered package). */
  readonly served?: Buffer;
}

const hex = (algorithm: string, b: Buffer) => createHash(algorithm).update(b).digest('hex');

/** The `<package>` element createrepo_c writes, reduced to what a proxy reads (and a `<packager>`). */
export function packageElement(p: SyntheticPackage, i = 0): string {
  const type = p.checksum ?? 'sha256';
  return `<package type="rpm">\n  <name>p${i}</name>\n  <arch>noarch</arch>\n  <version epoch="0" ver="1.0" rel="1"/>\n` +
    `  <checksum type="${type}" pkgid="YES">${hex(type, p.bytes)}</checksum>\n  <summary>s</summary>\n  <description>d</description>\n` +
    `  <packager>Fixture</packager>\n  <size package="${p.bytes.length}" installed="3" archive="256"/>\n  <location href="${p.href}"/>\n` +
    `  <format><rpm:license>MIT</rpm:license></format>\n</package>\n`;
}

export function primaryXml(elements: Iterable<string>, count: number): Buffer {
  return Buffer.from(`<?xml version="1.0" encoding="UTF-8"?>\n<metadata xmlns="http://linux.duke.edu/metadata/common" xmlns:rpm="http://linux.duke.edu/metadata/rpm" packages="${count}">\n${[...elements].join('')}</metadata>\n`);
}

export interface SyntheticRepo {
  readonly repomd: Buffer;
  readonly primaryHref: string;
  readonly primary: Buffer;
}

/** A repomd.xml listing the given metadata files (href relative to the root) with their sha256 and size. */
export function repomdXml(files: readonly { type: string; href: string; bytes: Buffer }[], revision = 1): Buffer {
  const data = files.map((f) => `  <data type="${f.type}">\n    <checksum type="sha256">${hex('sha256', f.bytes)}</checksum>\n` +
    `    <location href="${f.href}"/>\n    <timestamp>${1700000000 + revision}</timestamp>\n    <size>${f.bytes.length}</size>\n  </data>\n`).join('');
  return Buffer.from(`<?xml version="1.0" encoding="UTF-8"?>\n<repomd xmlns="http://linux.duke.edu/metadata/repo" xmlns:rpm="http://linux.duke.edu/metadata/rpm">\n  <revision>${revision}</revision>\n${data}</repomd>\n`);
}

/** Puts a repository at `root` on the fake upstream: repomd.xml, a gzip primary and the packages. */
export function serveRepo(upstream: FakeUpstream, root: string, packages: readonly SyntheticPackage[], extra: readonly { type: string; href: string; bytes: Buffer }[] = []): SyntheticRepo {
  const primary = gzipSync(primaryXml(packages.map((p, i) => packageElement(p, i)), packages.length));
  const primaryHref = `repodata/${hex('sha256', primary)}-primary.xml.gz`;
  const repomd = repomdXml([{ type: 'primary', href: primaryHref, bytes: primary }, ...extra]);
  upstream.set(`/${root}repodata/repomd.xml`, { body: repomd, headers: { 'content-type': 'text/xml' } });
  upstream.set(`/${root}${primaryHref}`, { body: primary });
  for (const p of packages) upstream.set(`/${root}${p.href}`, { body: p.served ?? p.bytes });
  return { repomd, primaryHref, primary };
}
