/**
 * The URL space of an rpm remote: the upstream's mirror tree, path for path. One remote fronts a
 * whole tree (`releases/40/Everything/x86_64/os/`, `updates/40/...`), so a path is classified by
 * its shape alone:
 *
 * | path | what | class |
 * | --- | --- | --- |
 * | `<root>repodata/repomd.xml` | a repository's index | mutable |
 * | `<root>repodata/repomd.xml.asc` | its detached signature, kept per `repomd.xml` version | mutable |
 * | `<root>repodata/<hex>-<name>` | metadata named by its checksum | immutable, verified against `repomd.xml` |
 * | `<root>repodata/<name>` | metadata with a plain name | mutable |
 * | `….rpm`, `….drpm` | packages | immutable, verified against the primary index |
 * | `metalink?repo=…`, `mirrorlist?repo=…`, `mirrorlist/<ver>/<repo>` | generated, pointing at this cache | not stored |
 */
export type RpmPath =
  | { readonly kind: 'repomd'; readonly root: string }
  | { readonly kind: 'signature'; readonly root: string }
  | { readonly kind: 'hashed'; readonly root: string; readonly href: string }
  | { readonly kind: 'metadata'; readonly root: string }
  | { readonly kind: 'package'; readonly roots: readonly string[] }
  | { readonly kind: 'metalink' }
  | { readonly kind: 'mirrorlist' }
  | { readonly kind: 'other' };

/** A checksum-named metadata file: createrepo's `unique-md-filenames` (hex of md5 to sha512). */
const HASHED = /^[0-9a-f]{32,128}-[^/]+$/;
const PACKAGE = /\.(rpm|drpm)$/;

export function parsePath(path: string): RpmPath | undefined {
  if (path === '' || path.endsWith('/')) return path === '' ? undefined : { kind: 'other' };
  if (path === 'metalink') return { kind: 'metalink' };
  if (path === 'mirrorlist' || /^mirrorlist\/[^/]+\/[^/]+$/.test(path)) return { kind: 'mirrorlist' };
  const at = path.lastIndexOf('repodata/');
  if (at >= 0 && (at === 0 || path[at - 1] === '/') && !path.slice(at + 'repodata/'.length).includes('/')) {
    const root = path.slice(0, at);
    const name = path.slice(at + 'repodata/'.length);
    if (name === 'repomd.xml') return { kind: 'repomd', root };
    if (name === 'repomd.xml.asc') return { kind: 'signature', root };
    if (HASHED.test(name)) return { kind: 'hashed', root, href: `repodata/${name}` };
    return { kind: 'metadata', root };
  }
  if (PACKAGE.test(path)) return { kind: 'package', roots: packageRoots(path) };
  return { kind: 'other' };
}

/**
 * The folders that may hold the repository a package belongs to, nearest first. Fedora, EPEL and
 * the Enterprise Linux rebuilds keep packages under `<root>Packages/` (`os/Packages/h/hello.rpm`);
 * a flat createrepo folder, or openSUSE's `<root><arch>/`, keeps them one or two levels down.
 */
export function packageRoots(path: string): string[] {
  const parts = path.split('/');
  const roots: string[] = [];
  const packages = parts.lastIndexOf('Packages');
  if (packages >= 0) roots.push(parts.slice(0, packages).map((p) => `${p}/`).join(''));
  for (let depth = parts.length - 1; depth >= Math.max(0, parts.length - 3); depth -= 1) {
    const root = parts.slice(0, depth).map((p) => `${p}/`).join('');
    if (!roots.includes(root)) roots.push(root);
  }
  return roots;
}
