import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { fileURLToPath } from 'node:url';

// Vitest globalSetup for the integration and e2e projects: `sotto` and
// `sotto-relay` run from out/ (build/cli.mjs), so build once before any test
// spawns them; the tests then always run what the sources say.

const REPO_ROOT = fileURLToPath(new URL('../../', import.meta.url));

/** Builds out/cli and out/relay (esbuild, well under a second when idle). */
export default async function buildCliOnce(): Promise<void> {
  await promisify(execFile)(process.execPath, ['build/cli.mjs'], { cwd: REPO_ROOT });
}
