import { execFile } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { redact, type DefaultsEnvironment } from '@cacheforge/core';

const run = promisify(execFile);

/** One place a registry can come from, asked only when the ones before it gave none to use. */
interface Candidate {
  readonly source: string;
  get(): Promise<string | undefined>;
}

/**
 * The registry the machine's own npm is configured for (`npm config get registry`): the
 * upstream of an npm remote whose config names none. `npm_config_registry` (set by npm and
 * pnpm for the scripts they run) answers without starting npm. A registry that is this Cache
 * Forge itself (the `registry=` line the README tells users to write) is skipped for the next
 * source, ending with npm's built-in default (npm run with no config files), and the log says
 * which one was used instead.
 */
export async function discoverRegistry({ env, log, pointsAtSelf }: DefaultsEnvironment): Promise<string> {
  const withoutRegistry = { ...env, npm_config_registry: undefined };
  const candidates: Candidate[] = [
    { source: 'npm_config_registry', get: async () => env.npm_config_registry?.trim() || undefined },
    { source: 'npm config get registry', get: () => npmRegistry(withoutRegistry) },
    {
      source: 'npm\'s built-in default',
      // No user, global or project config: what npm uses when nothing overrides it.
      get: () => npmRegistry({ ...withoutRegistry, npm_config_userconfig: noFile('user'), npm_config_globalconfig: noFile('global') }, tmpdir()),
    },
  ];
  const skipped: { registry: string; source: string }[] = [];
  for (const [i, candidate] of candidates.entries()) {
    // Once npm itself is asked, a failure to run it is the answer (unless a skipped one came first).
    if (i === 2 && skipped.length === 0) break;
    const registry = await candidate.get();
    if (!registry) continue;
    let url: URL;
    try { url = new URL(registry); } catch { throw new Error(`${candidate.source} gave ${JSON.stringify(registry)}, which is not a URL; set the remote's upstream`); }
    if (pointsAtSelf?.(url)) {
      skipped.push({ registry: redact(url), source: candidate.source });
      continue;
    }
    if (skipped.length > 0) {
      log.warn({ skipped, upstream: redact(url), source: candidate.source },
        `${skipped.map((s) => `${s.registry} (${s.source})`).join(' and ')} is this Cache Forge itself, not an npm registry; using ${redact(url)} (${candidate.source}) as the npm upstream instead`);
    } else {
      log.info({ upstream: redact(url), source: candidate.source }, 'npm upstream discovered from the npm configuration');
    }
    return url.href;
  }
  throw new Error(skipped.length > 0
    ? `every npm registry found (${skipped.map((s) => `${s.registry} from ${s.source}`).join(', ')}) is this Cache Forge itself; set the remote's upstream`
    : 'npm names no registry; set the remote\'s upstream');
}

async function npmRegistry(env: NodeJS.ProcessEnv, cwd?: string): Promise<string | undefined> {
  try {
    const { stdout } = await run('npm', ['config', 'get', 'registry'], { env: clean(env), timeout: 30_000, encoding: 'utf8', ...(cwd ? { cwd } : {}) });
    return stdout.trim() || undefined;
  } catch (err) {
    const e = err as NodeJS.ErrnoException & { stderr?: string };
    throw new Error(e.code === 'ENOENT'
      ? 'npm is not installed here, so its registry cannot be discovered; set the remote\'s upstream'
      : `\`npm config get registry\` failed (${(e.stderr ?? e.message).trim().split('\n')[0]}); set the remote's upstream`);
  }
}

function clean(env: NodeJS.ProcessEnv): NodeJS.ProcessEnv {
  return Object.fromEntries(Object.entries(env).filter(([, v]) => v !== undefined));
}

/** A config path that does not exist (npm refuses /dev/null, and reads a missing file as empty). */
function noFile(which: string): string {
  return path.join(tmpdir(), `cacheforge-no-npmrc-${process.pid}-${randomBytes(4).toString('hex')}`, `${which}.npmrc`);
}
