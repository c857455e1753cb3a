#!/usr/bin/env node
// The `cacheforge` command: the built core (dist/, made by `pnpm install` / `pnpm build`).
import '../dist/cli/bin.js';
