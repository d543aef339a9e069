// `npm run dist`: build the app and package it with electron-builder. Packaging
// needs Electron's binary; where it could not be downloaded (ELECTRON_SKIP_BINARY_DOWNLOAD,
// no GitHub access) this says so plainly instead of failing deep inside the builder.
import { spawnSync } from 'node:child_process';
import { electronBinary, exitWithoutElectron } from './electron-binary.mjs';

if (!electronBinary()) exitWithoutElectron('run dist');

for (const [cmd, args] of [
  ['npx', ['electron-vite', 'build']],
  ['npx', ['electron-builder', '--config', 'electron-builder.yml', ...process.argv.slice(2)]],
]) {
  const result = spawnSync(cmd, args, { stdio: 'inherit' });
  if (result.status !== 0) process.exit(result.status ?? 1);
}
