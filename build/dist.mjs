// `npm run dist`: build the app and package it with electron-builder. Packaging
// needs Electron's binary; where it could not be downloaded (ELECTRON_SKIP_BINARY_DOWNLOAD,
// no GitHub access) this says so plainly instead of failing deep inside the builder.
import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { createRequire } from 'node:module';

const require = createRequire(import.meta.url);

// Read electron's path.txt ourselves: requiring 'electron' would try to download it.
function electronBinary() {
  const pkgDir = dirname(require.resolve('electron/package.json'));
  const pathFile = join(pkgDir, 'path.txt');
  if (!existsSync(pathFile)) return undefined;
  const binary = join(pkgDir, 'dist', readFileSync(pathFile, 'utf8').trim());
  return existsSync(binary) ? binary : undefined;
}

if (!electronBinary()) {
  process.stderr.write(
    'sotto dist: the Electron binary is not installed (was ELECTRON_SKIP_BINARY_DOWNLOAD set, or is GitHub unreachable?).\n' +
      'Install it with `node node_modules/electron/install.js` on a machine with internet access, then run `npm run dist` again.\n',
  );
  process.exit(2);
}

for (const [cmd, args] of [
  ['npx', ['electron-vite', 'build']],
  ['npx', ['electron-builder', '--config', 'electron-builder.yml', ...process.argv.slice(2)]],
]) {
  const result = spawnSync(cmd, args, { stdio: 'inherit' });
  if (result.status !== 0) process.exit(result.status ?? 1);
}
