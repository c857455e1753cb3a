import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { runClient, type ClientRun } from '@cacheforge/core/testing';

/**
 * Debian's dnf kept to a private config, repo folder and installroot (see the client recipe):
 * nothing of the machine's own repositories or caches is read or written.
 */
export class Dnf {
  private constructor(readonly dir: string) {}

  static async create(): Promise<Dnf> {
    const dir = await mkdtemp(path.join(tmpdir(), 'cf-dnf-'));
    await mkdir(path.join(dir, 'repos.d'));
    await writeFile(path.join(dir, 'dnf.conf'), '[main]\ngpgcheck=0\nrepo_gpgcheck=0\ninstall_weak_deps=False\nkeepcache=True\n');
    return new Dnf(dir);
  }

  /** Writes `repos.d/<id>.repo` with the given lines under `[<id>]`. */
  async repo(id: string, lines: Record<string, string | number>): Promise<void> {
    const body = Object.entries({ name: id, gpgcheck: 0, metadata_expire: 0, ...lines }).map(([k, v]) => `${k}=${v}`).join('\n');
    await writeFile(path.join(this.dir, 'repos.d', `${id}.repo`), `[${id}]\n${body}\n`);
  }

  root(name: string): string {
    return path.join(this.dir, 'roots', name);
  }

  /** Runs dnf on one repository into the installroot `root` (created on first use). */
  async run(repo: string, root: string, args: readonly string[]): Promise<ClientRun> {
    await mkdir(this.root(root), { recursive: true });
    return runClient('dnf', ['-y', '--config', path.join(this.dir, 'dnf.conf'), `--installroot=${this.root(root)}`, '--releasever=40',
      `--setopt=reposdir=${path.join(this.dir, 'repos.d')}`, '--disablerepo=*', `--enablerepo=${repo}`, ...args],
    { cwd: this.dir, env: { ...process.env, LC_ALL: 'C.UTF-8' }, timeoutMs: 120_000 });
  }

  async cleanup(): Promise<void> {
    await rm(this.dir, { recursive: true, force: true });
  }
}
