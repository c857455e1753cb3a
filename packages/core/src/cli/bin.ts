import { main } from './main.js';

// The process glue of the `cacheforge` command (bin/cacheforge.js runs the built copy of this).
main(process.argv.slice(2)).then((code) => {
  process.exitCode = code;
  // A successful start returns after a graceful stop; anything still pending then is not ours.
  if (code !== 0 || process.argv[2] === 'start') setTimeout(() => process.exit(code), 200).unref();
});
