import { loadConfigWith, type LoadOptions, type LoadedConfig } from '../config/load.js';
import type { PluginSource } from '../config/plugin-source.js';
import { discoverInstalledPlugins } from './resolve.js';
import { loadPlugin } from './loader.js';

/** The plugins installed beside the config: resolved, imported and checked by this layer's loader. */
export const installedPlugins: PluginSource = { discover: discoverInstalledPlugins, load: loadPlugin };

/**
 * Finds, reads, interpolates and validates the configuration, loading the plugins it names (their
 * schemas are part of it); see {@link loadConfigWith}.
 */
export function loadConfig(options: LoadOptions = {}): Promise<LoadedConfig> {
  return loadConfigWith(installedPlugins, options);
}
