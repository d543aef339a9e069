// Where Electron's binary is, if it was downloaded. Read electron's path.txt
// ourselves: requiring 'electron' would try to download it.
import { existsSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { createRequire } from 'node:module';

const require = createRequire(import.meta.url);

/** The binary's path, or undefined when it is not installed. */
export function electronBinary() {
  const pkgDir = dirname(require.resolve('electron/package.json'));
  const pathFile = join(pkgDir, 'path.txt');
  if (!existsSync(pathFile)) return undefined;
  const binary = join(pkgDir, 'dist', readFileSync(pathFile, 'utf8').trim());
  return existsSync(binary) ? binary : undefined;
}

/** Says in plain words how to get the binary before `npm <script>` can work, and exits (status 2). */
export function exitWithoutElectron(script) {
  process.stderr.write(
    `sotto ${script}: the Electron binary is not installed (was ELECTRON_SKIP_BINARY_DOWNLOAD set, or is GitHub unreachable?).\n` +
      `Install it with \`node node_modules/electron/install.js\` on a machine with internet access, then run \`npm ${script}\` again.\n` +
      'Without it, the headless client (`npx sotto --help`) and the relay (`npm run relay`) still work.\n',
  );
  process.exit(2);
}
