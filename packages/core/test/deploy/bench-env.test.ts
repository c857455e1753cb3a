import { expect } from 'chai';
import { execFileSync } from 'node:child_process';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { hasProgram } from '../../src/testing/processes.js';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../../..');

/** What `pnpm <script>` puts in the environment of the script it runs (a sample of it). */
const PNPM_SCRIPT_ENV = {
  npm_config_omit_lockfile_registry_resolved: 'true',
  npm_config_user_agent: 'pnpm/10 npm/? node/v20 linux x64',
  npm_config_globalconfig: '/nonexistent/pnpm/rc',
  npm_package_name: 'cacheforge-workspace',
  npm_package_json: '/nonexistent/package.json',
  npm_lifecycle_event: 'bench:npm',
  npm_command: 'run-script',
  pnpm_config_verify_deps_before_run: 'false',
};

describe('bench: the npm the npm benchmark starts does not inherit pnpm\'s settings', () => {
  let withoutPackageManagerEnv: (env: NodeJS.ProcessEnv) => NodeJS.ProcessEnv;
  before(async () => {
    // Loaded by URL: the bench is plain JavaScript outside the TypeScript project.
    ({ withoutPackageManagerEnv } = await import(pathToFileURL(path.join(ROOT, 'bench/lib/proc.mjs')).href) as { withoutPackageManagerEnv: typeof withoutPackageManagerEnv });
  });

  it('drops npm_config_*, npm_package_*, npm_lifecycle_* and pnpm_* and keeps everything else', () => {
    const env = withoutPackageManagerEnv({ ...PNPM_SCRIPT_ENV, PATH: '/usr/bin', HOME: '/root', NODE_OPTIONS: '--x', npmish: 'kept' });
    expect(env).to.deep.equal({ PATH: '/usr/bin', HOME: '/root', NODE_OPTIONS: '--x', npmish: 'kept' });
  });

  it('gives npm back its own defaults (lockfiles keep their resolved URLs)', function () {
    if (!hasProgram('npm')) this.skip();
    // As the snapshot runs it: with an empty user config, so only the environment can set it.
    const base = { PATH: process.env.PATH, HOME: tmpdir() };
    const ask = (env: NodeJS.ProcessEnv) => execFileSync('npm', ['config', 'get', 'omit-lockfile-registry-resolved', '--userconfig', '/dev/null'],
      { encoding: 'utf8', cwd: '/', env }).trim();
    expect(ask({ ...base, ...PNPM_SCRIPT_ENV })).to.equal('true');
    expect(ask(withoutPackageManagerEnv({ ...base, ...PNPM_SCRIPT_ENV }))).to.equal('false');
  });
});
