import { mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';

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
