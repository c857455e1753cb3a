/** A `"tarball": "<url>"` member in raw JSON (escaped quotes inside strings never match). */
const TARBALL_MEMBER = /"tarball"\s*:\s*"((?:[^"\\]|\\.)*)"/g;

/** The file name a tarball URL ends in: what `/<name>/-/<file>` asks for. */
export function tarballFile(url: string): string {
  const path = url.replace(/\\\//g, '/').split(/[?#]/, 1)[0]!;
  const last = path.slice(path.lastIndexOf('/') + 1);
  try { return decodeURIComponent(last); } catch { return last; }
}

/** Where this remote serves a package's tarball `file`, under the base the client used. */
export function proxiedTarballUrl(base: string, name: string, file: string): string {
  return `${base}${name}/-/${encodeURIComponent(file)}`;
}

/**
 * Points every `dist.tarball` of a stored package document at this remote, by splicing the raw
 * JSON text: no parse and re-serialization, so the upstream's bytes stay as they were elsewhere.
 */
export function rewriteTarballUrls(document: string, name: string, base: string): string {
  return document.replace(TARBALL_MEMBER, (_member, url: string) => `"tarball":"${proxiedTarballUrl(base, name, tarballFile(url))}"`);
}
