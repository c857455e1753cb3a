import type { RemoteDefinition, SetupSnippet, SetupTarget } from '@cacheforge/core';
import { CRATES_IO, type CargoOptions } from './options.js';

/**
 * The cargo registry name a remote is configured under: the remote's own, so two cargo remotes
 * (crates.io and a private registry) sit side by side in one `config.toml`; `crates-io` is
 * cargo's own source name and cannot name a registry.
 */
export function registryName(remote: string): string {
  return remote === 'crates-io' ? 'cacheforge' : remote;
}

/** How cargo spells a registry's name in its environment variables (`CARGO_REGISTRIES_<NAME>_TOKEN`). */
function envName(name: string): string {
  return name.toUpperCase().replace(/-/g, '_');
}

/**
 * `~/.cargo/config.toml` for one cargo remote: a named `[registries]` entry (a `[source]` entry
 * cannot carry a token), which crates.io is replaced with when the remote mirrors crates.io. When
 * reads need a token, the served `config.json` says `auth-required`, and cargo sends the token of
 * `credentials.toml` (or the environment) as the whole `Authorization` value.
 */
export function cargoClientSetup(remote: RemoteDefinition<CargoOptions>, target: SetupTarget): SetupSnippet[] {
  const name = registryName(remote.name);
  const mirrorsCratesIo = remote.upstream.hostname === CRATES_IO.index;
  const config = [
    ...(mirrorsCratesIo ? ['[source.crates-io]', `replace-with = "${name}"`, ''] : []),
    `[registries.${name}]`,
    `index = "sparse+${target.base.href}"`,
    ...(mirrorsCratesIo ? [] : [`# a dependency from it: foo = { version = "1", registry = "${name}" }`]),
    ...(target.token ? ['', '[registry]', 'global-credential-providers = ["cargo:token"]'] : []),
  ];
  const snippets: SetupSnippet[] = [{ client: 'cargo', file: '~/.cargo/config.toml', text: `${config.join('\n')}\n` }];
  if (target.token) {
    snippets.push(
      { client: 'cargo (the token)', file: '~/.cargo/credentials.toml', text: `[registries.${name}]\ntoken = "${target.token}"\n` },
      { client: 'cargo (the token, without credentials.toml)', text: `export CARGO_REGISTRIES_${envName(name)}_TOKEN=${target.token}\n` },
    );
  }
  return snippets;
}
