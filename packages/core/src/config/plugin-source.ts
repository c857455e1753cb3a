import type { z } from 'zod';
import type { FormatPlugin } from '../contract/index.js';

/** A plugin that passed every check, with what the loader learned about it. */
export interface LoadedPlugin {
  /** The plugins entry it was loaded from (package name or path). */
  readonly specifier: string;
  readonly url: string;
  readonly plugin: FormatPlugin<Record<string, unknown>>;
  /** The plugin's options schema, built with the core's zod (absent: no options). */
  readonly options?: z.ZodObject;
}

/**
 * How a config load gets the plugins it names. The config layer only knows this shape; the plugin
 * layer implements it (`plugin/load-config.ts`), so config never imports the loader, and a
 * test may load a config against plugins it holds in memory.
 */
export interface PluginSource {
  /** The first-party plugins installed where these folders resolve packages from, for a config that names none. */
  discover(searchDirs: readonly string[]): string[];
  /** Imports one plugins entry and checks it; throws a coded error for a plugin that fails. */
  load(specifier: string, baseDir: string, searchDirs: readonly string[]): Promise<LoadedPlugin>;
}
