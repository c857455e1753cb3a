import { expect } from 'chai';
import { PLUGIN_CHECKS, verifyPlugin, type PluginVerification, type VerifyOptions } from '@cacheforge/core';

export type { VerifyOptions };

/**
 * The plugin contract (see `FormatPlugin` and `Handler` in @cacheforge/core), checked without an
 * upstream: the plugin loads and passes the loader's checks, its remotes validate, and its
 * `canHandle` answers valid routes, never throws and is pure. `cacheforge verify-plugin` runs the
 * same checks from the command line.
 */
export function pluginSuite(specifier: string, options: VerifyOptions): void {
  describe(`${specifier}: plugin conformance`, function () {
    this.timeout(30_000);
    let report: PluginVerification;
    before(async () => { report = await verifyPlugin(specifier, options); });
    for (const name of PLUGIN_CHECKS) {
      it(name, () => {
        const check = report.checks.find((c) => c.name === name);
        expect(check?.ok, check?.detail).to.equal(true);
      });
    }
  });
}
