import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import type { DefaultsEnvironment } from '@cacheforge/core';

const run = promisify(execFile);

/**
 * The registry the machine's own npm is configured for (`npm config get registry`): the
 * upstream of an npm remote whose config names none. `npm_config_registry` (set by npm and
 * pnpm for the scripts they run) answers without starting npm.
 */
export async function discoverRegistry({ env, log }: DefaultsEnvironment): Promise<string> {
  let registry = env.npm_config_registry?.trim();
  let source = 'npm_config_registry';
  if (!registry) {
    source = 'npm config get registry';
    try {
      const { stdout } = await run('npm', ['config', 'get', 'registry'], { env, timeout: 30_000, encoding: 'utf8' });
      registry = stdout.trim();
    } catch (err) {
      const e = err as NodeJS.ErrnoException & { stderr?: string };
      throw new Error(e.code === 'ENOENT'
        ? 'npm is not installed here, so its registry cannot be discovered; set the remote\'s upstream'
        : `\`npm config get registry\` failed (${(e.stderr ?? e.message).trim().split('\n')[0]}); set the remote's upstream`);
    }
  }
  let url: URL;
  try { url = new URL(registry); } catch { throw new Error(`${source} gave ${JSON.stringify(registry)}, which is not a URL; set the remote's upstream`); }
  const shown = new URL(url.href);
  shown.username = ''; shown.password = '';
  log.info({ upstream: shown.href, source }, 'npm upstream discovered from the npm configuration');
  return url.href;
}
