import { execFileSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

// The production build of the renderer that every e2e file serves. It is the
// e2e project's globalSetup (built once per run, before any file starts: the
// files run two at a time, and a build in one file would empty out/renderer
// under the other's pages); the benchmarks that drive the app call it directly.

const ROOT = fileURLToPath(new URL('../../../', import.meta.url));
/** Where electron-vite puts the renderer build. */
export const RENDERER = join(ROOT, 'out/renderer');

/** Builds the renderer (electron-vite's production build). */
export function buildRenderer(): void {
  execFileSync(
    process.execPath,
    [join(ROOT, 'node_modules/electron-vite/bin/electron-vite.js'), 'build'],
    {
      cwd: ROOT,
      stdio: 'pipe',
      env: { ...process.env, ELECTRON_SKIP_BINARY_DOWNLOAD: '1' },
    },
  );
  if (!existsSync(join(RENDERER, 'index.html')))
    throw new Error('renderer build produced no index.html');
}

/** Vitest globalSetup of the e2e project. */
export default function buildRendererOnce(): void {
  buildRenderer();
}
