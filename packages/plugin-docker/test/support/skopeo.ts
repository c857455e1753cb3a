import { mkdir, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { run } from '@cacheforge/core/testing';

/**
 * skopeo kept hermetic: its own HOME (no user config or credentials), an accept-anything policy
 * and a registries.conf given per instance (mirrors), so no request ever leaves loopback.
 */
export class Skopeo {
  private constructor(private readonly dir: string) {}

  static async create(dir: string, registriesConf = 'unqualified-search-registries = []\nshort-name-mode = "disabled"\n'): Promise<Skopeo> {
    for (const sub of ['home', 'run', 'regd']) await mkdir(path.join(dir, sub), { recursive: true });
    await writeFile(path.join(dir, 'auth.json'), '{"auths":{}}');
    await writeFile(path.join(dir, 'policy.json'), '{"default":[{"type":"insecureAcceptAnything"}]}');
    await writeFile(path.join(dir, 'registries.conf'), registriesConf);
    return new Skopeo(dir);
  }

  /** Runs `skopeo <args>` with the hermetic globals. */
  run(args: readonly string[], timeoutMs = 300_000): Promise<{ stdout: string; stderr: string }> {
    const env = { ...process.env, HOME: path.join(this.dir, 'home'), XDG_RUNTIME_DIR: path.join(this.dir, 'run') };
    return run('skopeo', [
      '--registries-conf', path.join(this.dir, 'registries.conf'), '--registries.d', path.join(this.dir, 'regd'), '--policy', path.join(this.dir, 'policy.json'),
      ...args,
    ], { env, timeoutMs });
  }

  /** `skopeo copy` from a registry (plain http) into an OCI layout. */
  async pull(source: string, destDir: string, options: { all?: boolean; creds?: string } = {}): Promise<void> {
    await this.run(['copy', '--retry-times', '0', '--src-tls-verify=false', '--authfile', path.join(this.dir, 'auth.json'),
      ...(options.creds ? ['--src-creds', options.creds] : []), ...(options.all ? ['--all'] : []), source, `oci:${destDir}:pulled`]);
  }

  /** `skopeo copy --all` of a layout's tag to a registry (plain http). */
  async push(layout: string, tag: string, dest: string, creds?: string): Promise<void> {
    await this.run(['copy', '--all', '--dest-tls-verify=false', '--authfile', path.join(this.dir, 'auth.json'), ...(creds ? ['--dest-creds', creds] : []), `oci:${layout}:${tag}`, dest]);
  }
}
