// A private apt: its own sources, lists, archives and status under one directory, its HTTP proxy
// set (as in the plugin's tests, packages/plugin-apt/test/support/apt.ts), so the machine's apt
// state is never read or changed.
import { mkdirSync, writeFileSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import path from 'node:path';
import { runCommand } from '../lib/proc.mjs';

/** `apt-get` with a private APT_CONFIG in `dir`, fetching through `proxy`; each call returns its seconds. */
export function aptClient(dir, sources, proxy) {
  for (const sub of ['etc/apt.conf.d', 'etc/preferences.d', 'state/lists/partial', 'cache/archives/partial', 'dl']) mkdirSync(path.join(dir, sub), { recursive: true });
  writeFileSync(path.join(dir, 'state/status'), '');
  writeFileSync(path.join(dir, 'sources.list'), sources);
  writeFileSync(path.join(dir, 'apt.conf'), [
    `Dir::Etc::SourceList "${dir}/sources.list";`, 'Dir::Etc::SourceParts "/dev/null";', 'Dir::Etc::Main "/dev/null";',
    `Dir::Etc::Parts "${dir}/etc/apt.conf.d";`, 'Dir::Etc::Preferences "/dev/null";', `Dir::Etc::PreferencesParts "${dir}/etc/preferences.d";`,
    `Dir::State "${dir}/state";`, `Dir::State::status "${dir}/state/status";`, `Dir::Cache "${dir}/cache";`,
    'Debug::NoLocking "true";', 'APT::Sandbox::User "root";', 'Acquire::Languages "none";', `Acquire::http::Proxy "${proxy}";`,
    'APT::Architectures { "amd64"; };',
  ].join('\n') + '\n');
  const env = { ...process.env, APT_CONFIG: path.join(dir, 'apt.conf') };
  const aptGet = async (...args) => {
    const { code, stderr, ms } = await runCommand('apt-get', ['-q', ...args], { cwd: path.join(dir, 'dl'), env, timeoutMs: 600_000 });
    if (code !== 0) throw new Error(`apt-get ${args.slice(0, 3).join(' ')} through ${proxy} failed (${code}): ${stderr.slice(-1500)}`);
    return ms / 1000;
  };
  /** Forgets what apt fetched (its lists, or the downloaded .debs), so the next call asks the cache again. */
  const reset = (sub) => {
    rmSync(path.join(dir, sub), { recursive: true, force: true });
    mkdirSync(path.join(dir, sub, sub === 'dl' ? '' : 'partial'), { recursive: true });
  };
  const debs = () => readdirSync(path.join(dir, 'dl')).filter((f) => f.endsWith('.deb'));
  return { dir, lists: path.join(dir, 'state/lists'), aptGet, reset, debs };
}

/** `count` packages of 20-400 kB spread evenly over the suite's main Packages (the same every run of one suite). */
export function pickPackages(listsDir, count) {
  const file = readdirSync(listsDir).find((f) => /_main_binary-amd64_Packages$/.test(f));
  if (!file) throw new Error(`no main amd64 Packages in ${listsDir}`);
  const names = [];
  for (const stanza of readFileSync(path.join(listsDir, file), 'utf8').split('\n\n')) {
    const name = /^Package: (\S+)/m.exec(stanza)?.[1];
    const size = Number(/^Size: (\d+)/m.exec(stanza)?.[1]);
    if (name && size >= 20_000 && size <= 400_000) names.push(name);
  }
  names.sort();
  const every = Math.floor(names.length / count);
  return Array.from({ length: count }, (_, i) => names[i * every]);
}

/** The by-hash name of the suite's main amd64 Packages.xz, from the InRelease apt kept. */
export function packagesXzByHash(listsDir, suite) {
  const file = readdirSync(listsDir).find((f) => f.endsWith(`_dists_${suite}_InRelease`));
  if (!file) throw new Error(`no InRelease of ${suite} in ${listsDir}`);
  const text = readFileSync(path.join(listsDir, file), 'utf8');
  const sha256 = text.slice(text.indexOf('\nSHA256:'));
  const hex = / ([0-9a-f]{64}) +\d+ main\/binary-amd64\/Packages\.xz\n/.exec(sha256)?.[1];
  if (!hex) throw new Error(`the InRelease of ${suite} lists no main/binary-amd64/Packages.xz`);
  return `dists/${suite}/main/binary-amd64/by-hash/SHA256/${hex}`;
}
