import { readdir, readFile } from 'node:fs/promises';
import path from 'node:path';

/** One enabled `deb` source of the machine's apt configuration. */
export interface AptSource {
  readonly uri: string;
  readonly suites: readonly string[];
}

/** One-line `deb [options] URI suite components...` entries, comments skipped. */
export function parseOneLine(text: string): AptSource[] {
  const out: AptSource[] = [];
  for (const raw of text.split('\n')) {
    const line = raw.replace(/#.*/, '').trim();
    const m = /^deb\s+(?:\[[^\]]*\]\s+)?(\S+)\s+(\S+)/.exec(line);
    if (m) out.push({ uri: m[1]!, suites: [m[2]!] });
  }
  return out;
}

/** deb822 stanzas (`Types: deb`, `URIs:`, `Suites:`), honouring `Enabled: no`, comments skipped. */
export function parseDeb822(text: string): AptSource[] {
  const out: AptSource[] = [];
  for (const stanza of text.split(/\n\s*\n/)) {
    const fields = new Map<string, string>();
    let last: string | undefined;
    for (const raw of stanza.split('\n')) {
      if (raw.startsWith('#')) continue;
      if (/^\s/.test(raw) && last) { fields.set(last, `${fields.get(last)} ${raw.trim()}`); continue; }
      const m = /^([\w-]+):\s*(.*)$/.exec(raw);
      if (m) { last = m[1]!.toLowerCase(); fields.set(last, m[2]!.trim()); }
    }
    if (!(fields.get('types') ?? '').split(/\s+/).includes('deb')) continue;
    if ((fields.get('enabled') ?? 'yes').toLowerCase() === 'no') continue;
    const suites = (fields.get('suites') ?? '').split(/\s+/).filter(Boolean);
    for (const uri of (fields.get('uris') ?? '').split(/\s+/).filter(Boolean)) out.push({ uri, suites });
  }
  return out;
}

/** Every enabled `deb` source under `etc` (`/etc/apt`): `sources.list`, then `sources.list.d/*.list|*.sources` by name. */
export async function readAptSources(etc = '/etc/apt'): Promise<AptSource[]> {
  const out: AptSource[] = [];
  const text = (file: string) => readFile(file, 'utf8').catch(() => '');
  out.push(...parseOneLine(await text(path.join(etc, 'sources.list'))));
  const dir = path.join(etc, 'sources.list.d');
  const names = (await readdir(dir).catch(() => [] as string[])).sort();
  for (const name of names) {
    if (name.endsWith('.list')) out.push(...parseOneLine(await text(path.join(dir, name))));
    else if (name.endsWith('.sources')) out.push(...parseDeb822(await text(path.join(dir, name))));
  }
  return out;
}

/**
 * The archive a `debian` remote mirrors when it names no upstream: the first http(s) source that is
 * not a security archive (its suites are `*-security`, or its path is) and not this instance.
 */
export function pickMirror(sources: readonly AptSource[], pointsAtSelf?: (url: URL) => boolean): URL | undefined {
  for (const source of sources) {
    let url: URL;
    try { url = new URL(source.uri.endsWith('/') ? source.uri : `${source.uri}/`); } catch { continue; }
    if (url.protocol !== 'http:' && url.protocol !== 'https:') continue;
    if (/-security\/?$/.test(url.pathname) || source.suites.some((s) => s.endsWith('-security'))) continue;
    if (pointsAtSelf?.(url)) continue;
    return url;
  }
  return undefined;
}
