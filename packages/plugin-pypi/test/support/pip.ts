import { execFile } from 'node:child_process';

/** The Python whose pip the tests drive: the one on PATH, as a user's shell would pick it. */
export const PYTHON = process.env.CF_TEST_PYTHON ?? 'python3';

export interface PipResult { readonly code: number; readonly stdout: string; readonly stderr: string }

/** The environment without the machine's pip settings (`PIP_*`), which would leak into the test. */
function cleanEnv(): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {};
  for (const [k, v] of Object.entries(process.env)) if (!k.startsWith('PIP_')) env[k] = v;
  // No config file at all, /etc/pip.conf included; no keyring prompts; no progress bars.
  return { ...env, PIP_CONFIG_FILE: '/dev/null', PYTHONDONTWRITEBYTECODE: '1', PIP_PROGRESS_BAR: 'off' };
}

/** Runs `python3 -m pip <args>` isolated from user settings, with no cache, bounded in time. */
export function pip(args: readonly string[], timeoutMs = 240_000): Promise<PipResult> {
  return new Promise((resolve) => {
    execFile(PYTHON, ['-m', 'pip', ...args.slice(0, 1), '--isolated', '--no-cache-dir', '--disable-pip-version-check', '--no-input', ...args.slice(1)],
      { env: cleanEnv(), timeout: timeoutMs, maxBuffer: 16 * 1024 * 1024 },
      (error, stdout, stderr) => resolve({ code: error ? (typeof error.code === 'number' ? error.code : 1) : 0, stdout, stderr }));
  });
}

/** pip's version on PATH, or `undefined` when there is no pip. */
export async function pipVersion(): Promise<[number, number] | undefined> {
  const r = await new Promise<PipResult>((resolve) => {
    execFile(PYTHON, ['-m', 'pip', '--version'], { env: cleanEnv(), timeout: 30_000 },
      (error, stdout, stderr) => resolve({ code: error ? 1 : 0, stdout, stderr }));
  });
  const m = /^pip (\d+)\.(\d+)/.exec(r.stdout);
  return r.code === 0 && m ? [Number(m[1]), Number(m[2])] : undefined;
}
