// Which profile this app instance opens, and the Chromium data folder that
// goes with it. No 'electron' import (pure, tested directly).
import { createHash } from 'node:crypto';
import { join, resolve } from 'node:path';

/** `--profile <dir>` or `--profile=<dir>` from the command line, else `fallback`; always absolute. */
export function profileDirFromArgs(argv: readonly string[], fallback: string): string {
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i]!;
    if (arg === '--profile' && argv[i + 1]) return resolve(argv[i + 1]!);
    if (arg.startsWith('--profile=') && arg.length > '--profile='.length)
      return resolve(arg.slice('--profile='.length));
  }
  return resolve(fallback);
}

/**
 * Electron's userData folder for a non-default profile. The single-instance
 * lock is per userData folder, so one folder per profile gives one running
 * instance per profile; it sits beside the default one, never inside the
 * profile directory (which holds only the core's files).
 */
export function userDataForProfile(defaultUserData: string, profileDir: string): string {
  const digest = createHash('sha256').update(resolve(profileDir)).digest('hex').slice(0, 16);
  return join(defaultUserData, 'profiles', digest);
}
