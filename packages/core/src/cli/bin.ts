import { main } from './main.js';
import { serializeError } from '../util/logger.js';

/**
 * What an error that nothing else handled prints: Node's own crash dump would inspect the whole
 * object (a got error's options, headers and URLs, with the remote's credentials).
 */
function crash(kind: string, always = false) {
  return (err: unknown) => {
    // While the server runs, its escape guard (cli/escape-guard.ts) logs the error and keeps serving.
    if (!always && process.listenerCount(kind) > 1) return;
    process.stderr.write(`cacheforge: ${kind}: ${JSON.stringify(serializeError(err))}\n`);
    process.exit(1);
  };
}
process.on('uncaughtException', crash('uncaughtException'));
process.on('unhandledRejection', crash('unhandledRejection'));

// The process glue of the `cacheforge` command (bin/cacheforge.js runs the built copy of this).
main(process.argv.slice(2)).then((code) => {
  process.exitCode = code;
  // A successful start returns after a graceful stop; anything still pending then is not ours.
  if (code !== 0 || process.argv[2] === 'start') setTimeout(() => process.exit(code), 200).unref();
}, crash('failed', true));
