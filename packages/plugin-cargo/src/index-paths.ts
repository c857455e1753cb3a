/**
 * Where a crate's file sits in a cargo registry index, as cargo computes it: names of one, two
 * and three characters under `1/`, `2/` and `3/<first>/`, longer ones under their first two and
 * next two characters. The sparse protocol asks for these paths lower-cased.
 */
export function indexPath(name: string): string {
  const n = name.toLowerCase();
  switch (n.length) {
    case 1: return `1/${n}`;
    case 2: return `2/${n}`;
    case 3: return `3/${n[0]}/${n}`;
    default: return `${n.slice(0, 2)}/${n.slice(2, 4)}/${n}`;
  }
}

/** The `{prefix}` marker of a download template: the index directory, in the name's own case. */
export function namePrefix(name: string): string {
  switch (name.length) {
    case 1: return '1';
    case 2: return '2';
    case 3: return `3/${name[0]}`;
    default: return `${name.slice(0, 2)}/${name.slice(2, 4)}`;
  }
}

/** A crate name as crates.io and cargo accept it (the index is also reached by names of other registries, so `-`/`_` both). */
export function validCrateName(name: string): boolean {
  return /^[A-Za-z0-9][A-Za-z0-9_-]{0,63}$/.test(name);
}

/** A semver version as it appears in a download URL (with pre-release and build metadata). */
export function validVersion(version: string): boolean {
  return /^[0-9]+\.[0-9]+\.[0-9]+(?:-[0-9A-Za-z.-]+)?(?:\+[0-9A-Za-z.-]+)?$/.test(version) && version.length <= 128;
}
