import { parseArgs } from 'node:util';
import { redactText } from '../util/redact.js';
import { isCacheForgeError } from '../errors/errors.js';
import { loadConfig } from '../plugin/load-config.js';
import { createLogger } from '../util/logger.js';
import { createContainer } from '../container.js';
import { installEscapeGuard } from './escape-guard.js';
import { CacheForgeServer } from '../server/server.js';
import { describeConfig } from './describe-config.js';
import { readStoredRemotes } from './stored-remotes.js';
import { CORE_VERSION } from '../version.js';
import { verifyPlugin } from '../plugin/verify.js';
import { formatVerification } from './format-verification.js';
import { API_COMMANDS, runApiCommand } from './api-commands.js';
import cluster from 'node:cluster';
import { workerCount } from '../workers/worker-count.js';
import { runPrimary } from '../workers/primary.js';
import { exitWithPrimary, joinPrimary } from '../workers/worker-process.js';
import type { PipelineServices } from '../pipeline/services.js';
import type { WorkerChannel } from '../workers/worker-channel.js';
import { TOKENS } from '../container.js';

const USAGE = `Usage:
  cacheforge start [--config FILE] [--port N]   start the proxy (no config: the embedded defaults)
  cacheforge config check [--config FILE]       validate the config and print it, secrets masked
  cacheforge verify-plugin <name|path>          check a format plugin against the plugin contract
  cacheforge --version

Against a running server (--url URL or $CACHEFORGE_URL, default http://127.0.0.1:8080; --token T
or $CACHEFORGE_TOKEN; --json prints the API's answer for scripts):
  cacheforge remotes ls
  cacheforge remotes put NAME --file remote.json|yaml    add or replace a runtime remote (admin)
  cacheforge remotes rm NAME                    remove a runtime remote (admin)
  cacheforge artifacts ls REMOTE [PREFIX]
  cacheforge artifacts rm REMOTE PATH | REMOTE --prefix P
  cacheforge flush [--remote R] --yes
  cacheforge tokens create NAME [--scope read|write|admin]... [--remote R]... [--expires 30d]
  cacheforge tokens ls
  cacheforge tokens revoke ID
  cacheforge stats [--remote R]
  cacheforge setup [REMOTE]                     client configuration (a <TOKEN> placeholder where reads need one)
Exit codes of these: 0 done, 1 server failed or unreachable, 2 bad usage, 3 refused (token
missing, invalid or without the scope), 4 not found, 5 conflict.

The config is FILE, else $CACHEFORGE_CONFIG, else cacheforge.config.{yaml,yml,json,js,mjs},
.cacheforgerc* or a "cacheforge" key in package.json, searched from the working directory up to
the project root (the first folder with a package.json).`;

/** Exit codes: 0 ok, 1 runtime failure, 2 bad usage or bad configuration. */
export async function main(argv: string[]): Promise<number> {
  let parsed;
  try {
    parsed = parseArgs({
      args: argv, allowPositionals: true,
      options: {
        config: { type: 'string', short: 'c' }, port: { type: 'string', short: 'p' }, help: { type: 'boolean', short: 'h' }, version: { type: 'boolean' },
        url: { type: 'string' }, token: { type: 'string' }, json: { type: 'boolean' }, yes: { type: 'boolean' },
        remote: { type: 'string', multiple: true }, prefix: { type: 'string' }, scope: { type: 'string', multiple: true }, expires: { type: 'string' },
        file: { type: 'string' },
      },
    });
  } catch (err) {
    process.stderr.write(`cacheforge: ${(err as Error).message}\n\n${USAGE}\n`);
    return 2;
  }
  const { values, positionals } = parsed;
  if (values.version) { process.stdout.write(`${CORE_VERSION}\n`); return 0; }
  if (values.help) { process.stdout.write(`${USAGE}\n`); return 0; }
  // NOTE: a usage error goes to stderr, so `cacheforge > out` does not swallow the reason it failed.
  if (positionals.length === 0) { process.stderr.write(`cacheforge: no command given\n\n${USAGE}\n`); return 2; }
  let port: number | undefined;
  if (values.port !== undefined) {
    port = Number(values.port);
    if (!/^\d+$/.test(values.port) || port > 65535) { process.stderr.write(`cacheforge: --port expects 0-65535, got ${values.port}\n`); return 2; }
  }
  if (positionals[0] === 'verify-plugin') {
    if (positionals.length !== 2) { process.stderr.write(`cacheforge: verify-plugin takes one plugin name or path\n\n${USAGE}\n`); return 2; }
    return verify(positionals[1]!);
  }
  if ((API_COMMANDS as readonly string[]).includes(positionals[0]!)) return runApiCommand(positionals, values);
  const command = positionals.join(' ');
  if (command === 'start') return start(values.config, port);
  if (command === 'config check') return check(values.config);
  process.stderr.write(`cacheforge: unknown command "${command}"\n\n${USAGE}\n`);
  return 2;
}

async function verify(specifier: string): Promise<number> {
  const report = await verifyPlugin(specifier, { cwd: process.cwd() });
  process.stdout.write(`${formatVerification(specifier, report)}\n`);
  return report.ok ? 0 : 1;
}

async function check(configPath: string | undefined): Promise<number> {
  try {
    const { config, plugins } = await loadConfig({ configPath });
    const stored = await readStoredRemotes(config, plugins, createLogger('silent'));
    process.stdout.write(`${describeConfig(config, plugins, stored)}\n`);
    process.stderr.write(`configuration OK (${config.source})\n`);
    if (stored.unreadable) process.stderr.write(`runtime remotes not shown: the metadata store could not be read (${stored.unreadable})\n`);
    const invalid = Object.keys(stored.invalid);
    if (invalid.length > 0) process.stderr.write(`runtime remotes that no longer pass the schema: ${invalid.join(', ')} (see runtimeRemotes)\n`);
    return 0;
  } catch (err) {
    return reportStartupError(err);
  }
}

async function start(configPath: string | undefined, port: number | undefined): Promise<number> {
  let server: CacheForgeServer;
  let worker: WorkerChannel | undefined;
  try {
    // A worker of `server.workers` learns from its primary who the instance is before anything else.
    worker = cluster.isWorker ? await joinPrimary() : undefined;
    const bootLog = createLogger('info');
    const { config, plugins } = await loadConfig({ configPath, port, log: bootLog });
    const log = createLogger(config.log.level);
    const workers = workerCount(config.server.workers);
    if (!worker && workers > 1) return await runPrimary(config, log.child({ role: 'primary' }), workers);
    const workerLog = worker ? log.child({ worker: worker.worker }) : log;
    const container = createContainer(config, plugins, workerLog, { worker });
    server = new CacheForgeServer(container, { worker: worker?.worker });
    installEscapeGuard(workerLog, () => server.metrics.uncaughtErrors.inc());
    if (worker) exitWithPrimary(worker, () => container.resolve<PipelineServices>(TOKENS.PipelineServices), workerLog);
    const address = await server.start();
    worker?.post({ cf: 1, t: 'listening', port: address.port });
  } catch (err) {
    return reportStartupError(err);
  }
  return new Promise<number>((resolve) => {
    let stopping = false;
    const stop = (signal: NodeJS.Signals) => {
      // A worker's signals are its primary's to repeat: it escalates to SIGKILL on a second one.
      if (stopping && worker) return;
      if (stopping) { process.stderr.write(`cacheforge: second ${signal}, exiting now\n`); resolve(1); return; }
      stopping = true;
      server.stop(signal).then(() => resolve(0), (err: unknown) => { process.stderr.write(`cacheforge: shutdown failed: ${redactText((err as Error).message)}\n`); resolve(1); });
    };
    process.on('SIGTERM', stop);
    process.on('SIGINT', stop);
    if (worker) worker.onStop = () => { if (!stopping) stop('SIGTERM'); };
  });
}

function reportStartupError(err: unknown): number {
  if (isCacheForgeError(err) && (err.code.startsWith('CF_ERR_CONFIG') || err.code.startsWith('CF_ERR_PLUGIN'))) {
    process.stderr.write(`cacheforge: ${err.code}: ${redactText(err.message)}\n`);
    return 2;
  }
  const e = err as Error;
  process.stderr.write(`cacheforge: failed to start: ${isCacheForgeError(err) ? `${err.code}: ` : ''}${redactText(e?.message ?? String(err))}\n`);
  return 1;
}
