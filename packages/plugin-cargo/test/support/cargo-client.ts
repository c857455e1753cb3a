import { existsSync } from 'node:fs';
import { mkdir, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { runClient, type ClientRun } from '@cacheforge/core/testing';
import { RUSTUP_CARGO } from './crate-registry.js';

/** One of the two cargos the tests drive, and how it is told to use a sparse registry. */
export interface CargoClient {
  readonly label: string;
  readonly program: string;
  /** Flags before the subcommand (Debian's cargo 1.65 needs `-Z sparse-registry`). */
  readonly flags: readonly string[];
  readonly env: Readonly<Record<string, string>>;
  readonly install: string;
}

export const CARGO_195: CargoClient = { label: 'cargo 1.95 (rustup)', program: RUSTUP_CARGO, flags: [], env: {}, install: 'rustup (in the machine image)' };
export const CARGO_165: CargoClient = {
  label: 'cargo 1.65 (Debian)', program: '/usr/bin/cargo', flags: ['-Z', 'sparse-registry'],
  env: { RUSTC: '/usr/bin/rustc', RUSTC_BOOTSTRAP: '1' }, install: 'apt-get install cargo',
};

export function clientMissing(client: CargoClient): boolean {
  return !existsSync(client.program);
}

/**
 * Writes a `CARGO_HOME` whose `config.toml` replaces crates.io with the remote, as the README
 * tells users to, with retries off so a refused crate fails at once.
 */
export async function cargoHome(dir: string, registry: string): Promise<string> {
  await mkdir(dir, { recursive: true });
  await writeFile(path.join(dir, 'config.toml'), [
    '[source.crates-io]', 'replace-with = "cacheforge"', '[source.cacheforge]', `registry = "sparse+${registry}"`,
    '[net]', 'retry = 0', '',
  ].join('\n'));
  return dir;
}

/** Runs cargo in `cwd` with `home` as its CARGO_HOME; the rustup proxy still finds its toolchains. */
export function runCargo(client: CargoClient, args: readonly string[], options: { cwd: string; home: string; target: string; env?: Record<string, string> }): Promise<ClientRun> {
  const env: NodeJS.ProcessEnv = {
    PATH: process.env.PATH, HOME: process.env.HOME, RUSTUP_HOME: process.env.RUSTUP_HOME ?? path.join(process.env.HOME ?? '/root', '.rustup'),
    RUSTUP_TOOLCHAIN: process.env.RUSTUP_TOOLCHAIN, CARGO_HOME: options.home, CARGO_TARGET_DIR: options.target,
    CARGO_TERM_COLOR: 'never', CARGO_HTTP_TIMEOUT: '60', ...client.env, ...options.env,
  };
  for (const k of Object.keys(env)) if (env[k] === undefined) delete env[k];
  return runClient(client.program, [...client.flags, ...args], { cwd: options.cwd, env, timeoutMs: 300_000 });
}

/** A binary crate depending on `deps` (`name = "req"` lines), whose main is `main`. */
export async function writeApp(dir: string, deps: readonly string[], main: string): Promise<string> {
  await mkdir(path.join(dir, 'src'), { recursive: true });
  await writeFile(path.join(dir, 'Cargo.toml'), ['[package]', 'name = "app"', 'version = "0.1.0"', 'edition = "2018"', '', '[dependencies]', ...deps, ''].join('\n'));
  await writeFile(path.join(dir, 'src', 'main.rs'), main);
  return dir;
}
