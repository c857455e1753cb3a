#!/usr/bin/env node
// The `cacheforge` command. Runs the built core (dist/); `pnpm install` builds it.
import { main } from '../dist/cli/main.js';

main(process.argv.slice(2)).then((code) => { process.exitCode = code; if (code !== 0) process.exit(code); });
