import { execFile, execFileSync } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';

/** The outcome of one client run. */
export interface ClientRun { code: number; output: string }

/**
 * The environment a package manager gets in these tests: no npm/pnpm/yarn settings inherited from
 * whoever runs the tests (a `pnpm test` sets `npm_config_*` for its children), a HOME of its own
 * (yarn reads ~/.npmrc and ~/.yarnrc), empty user and global npmrc files.
 */
export function cleanClientEnv(home: string): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {};
  for (const [key, value] of Object.entries(process.env)) {
    if (/^(npm_|pnpm_|yarn_|COREPACK_|NODE_OPTIONS$|INIT_CWD$)/i.test(key)) continue;
    env[key] = value;
  }
  mkdirSync(path.join(home, 'xdg'), { recursive: true });
  writeFileSync(path.join(home, '.npmrc'), '');
  writeFileSync(path.join(home, 'global.npmrc'), '');
  return {
    ...env, HOME: home, XDG_CONFIG_HOME: path.join(home, 'xdg'), CI: 'true',
    npm_config_userconfig: path.join(home, '.npmrc'), npm_config_globalconfig: path.join(home, 'global.npmrc'),
    npm_config_update_notifier: 'false', npm_config_fund: 'false', npm_config_audit: 'false',
  };
}

/** Runs a client to its end (bounded by `timeoutMs`), with its output for failure messages. */
export function runClient(command: string, args: string[], options: { cwd: string; env: NodeJS.ProcessEnv; timeoutMs?: number }): Promise<ClientRun> {
  return new Promise((resolve) => {
    execFile(command, args, { cwd: options.cwd, env: options.env, timeout: options.timeoutMs ?? 180_000, maxBuffer: 16 * 1024 * 1024 }, (err, stdout, stderr) => {
      const code = err ? (typeof (err as { code?: unknown }).code === 'number' ? (err as { code: number }).code : 1) : 0;
      resolve({ code, output: `$ ${command} ${args.join(' ')}\n${stdout}\n${stderr}`.slice(-6000) });
    });
  });
}

/** The version of a client on PATH, or undefined when it is not installed. */
export function clientVersion(command: string): string | undefined {
  try {
    return execFileSync(command, ['--version'], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'], cwd: '/' }).trim();
  } catch {
    return undefined;
  }
}
