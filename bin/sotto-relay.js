#!/usr/bin/env node
// `sotto-relay`: runs the relay built to plain JavaScript in out/relay
// (build/cli.mjs; `npm ci` builds it, `npm run build:cli` after changing the
// sources). No TypeScript loader in production.
import { existsSync } from 'node:fs';
import module from 'node:module';

const entry = new URL('../out/relay/cli.js', import.meta.url);
if (!existsSync(entry)) {
  process.stderr.write('sotto-relay: not built yet: run `npm run build:cli` (npm ci does it)\n');
  process.exit(1);
}
// Node ≥ 22.1 keeps compiled code between runs; older Node has no such cache.
module.enableCompileCache?.();
await import(entry.href);
