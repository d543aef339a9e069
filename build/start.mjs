// `npm start`: build and run the desktop app (electron-vite preview). Where
// Electron's binary is missing, say so plainly instead of electron-vite's
// "Electron uninstall" stack trace after a full build.
import { spawnSync } from 'node:child_process';
import { electronBinary, exitWithoutElectron } from './electron-binary.mjs';

if (!electronBinary()) exitWithoutElectron('start');

const result = spawnSync('npx', ['electron-vite', 'preview', ...process.argv.slice(2)], {
  stdio: 'inherit',
});
process.exit(result.status ?? 1);
