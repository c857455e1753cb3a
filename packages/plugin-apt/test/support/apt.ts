import { mkdir, mkdtemp, writeFile, readdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { runClient, type ClientRun } from '@cacheforge/core/testing';

/**
 * A private apt configuration (APT_CONFIG) that reads nothing of the machine's: its own
 * sources.list, state, cache and download folder, so apt-get runs unprivileged-safe and in parallel.
 */
export class AptClient {
  private constructor(readonly dir: string) {}

  /**
   * `files` are written below the private `etc/` as apt's own `/etc/apt/` (`sources.list.d/x.sources`,
   * `auth.conf.d/x.conf`, `apt.conf.d/x`, `trusted.gpg.d/x.gpg`): what a setup snippet says to put there.
   */
  static async create(sources: string, options: { proxy?: string; files?: Readonly<Record<string, string | Buffer>> } = {}): Promise<AptClient> {
    const dir = await mkdtemp(path.join(tmpdir(), 'cf-apt-client-'));
    const etc = ['apt.conf.d', 'preferences.d', 'sources.list.d', 'auth.conf.d', 'trusted.gpg.d'].map((d) => `etc/${d}`);
    for (const sub of [...etc, 'state/lists/partial', 'cache/archives/partial', 'dl']) await mkdir(path.join(dir, sub), { recursive: true });
    for (const [file, text] of Object.entries(options.files ?? {})) await writeFile(path.join(dir, 'etc', file), text);
    await writeFile(path.join(dir, 'state/status'), '');
    await writeFile(path.join(dir, 'sources.list'), sources);
    await writeFile(path.join(dir, 'apt.conf'), [
      `Dir::Etc::SourceList "${dir}/sources.list";`, `Dir::Etc::SourceParts "${dir}/etc/sources.list.d";`,
      'Dir::Etc::netrc "/dev/null";', `Dir::Etc::netrcparts "${dir}/etc/auth.conf.d";`, `Dir::Etc::TrustedParts "${dir}/etc/trusted.gpg.d";`,
      'Dir::Etc::Main "/dev/null";', `Dir::Etc::Parts "${dir}/etc/apt.conf.d";`,
      'Dir::Etc::Preferences "/dev/null";', `Dir::Etc::PreferencesParts "${dir}/etc/preferences.d";`,
      `Dir::State "${dir}/state";`, `Dir::State::status "${dir}/state/status";`, `Dir::Cache "${dir}/cache";`,
      'Debug::NoLocking "true";', 'APT::Sandbox::User "root";', 'Acquire::Languages "none";',
      `Acquire::http::Proxy "${options.proxy ?? 'DIRECT'}";`, 'APT::Architectures { "amd64"; };',
      'Acquire::Retries "0";', 'Acquire::http::Timeout "20";',
    ].join('\n') + '\n');
    return new AptClient(dir);
  }

  /** Runs `apt-get ARGS` in the download folder. */
  aptGet(...args: string[]): Promise<ClientRun> {
    return runClient('apt-get', ['-q', ...args], { cwd: path.join(this.dir, 'dl'), env: { ...process.env, APT_CONFIG: path.join(this.dir, 'apt.conf') }, timeoutMs: 300_000 });
  }

  /** Files `apt-get download` wrote, and those `install --download-only` left in the archive cache. */
  async downloaded(): Promise<string[]> { return (await readdir(path.join(this.dir, 'dl'))).sort(); }
  async archived(): Promise<string[]> { return (await readdir(path.join(this.dir, 'cache/archives'))).filter((f) => f.endsWith('.deb')).sort(); }

  /** Forgets what apt downloaded (lists and packages), as on a fresh machine. */
  async forget(): Promise<void> {
    for (const sub of ['state/lists', 'cache/archives', 'dl'] as const) await this.reset(sub);
  }

  /** Empties one of apt's folders: its lists, its package cache, or the download folder. */
  async reset(sub: 'state/lists' | 'cache/archives' | 'dl'): Promise<void> {
    await rm(path.join(this.dir, sub), { recursive: true, force: true });
    await mkdir(path.join(this.dir, sub, sub === 'dl' ? '' : 'partial'), { recursive: true });
  }

  cleanup(): Promise<void> { return rm(this.dir, { recursive: true, force: true }); }
}
