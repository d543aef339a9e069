import { chmodSync, closeSync, lstatSync, mkdirSync, openSync, statSync } from 'node:fs';
import { SottoError } from '../errors.ts';
import { log } from '../log.ts';
import type { ProfilePaths } from './paths.ts';

// Only the user may enter the profile directory or read its files, whatever
// the umask and whatever an older version (or the user) left behind. The data
// is encrypted anyway; the modes keep other local accounts from even copying
// the key file and database to guess the passphrase offline
// (docs/storage.md#file-modes). Windows has no POSIX modes: the profile lives
// in the user's own profile folder there, so these are no-ops.

/** Mode of the profile directory. */
export const DIRECTORY_MODE = 0o700;
/** Mode of every file in it. */
export const FILE_MODE = 0o600;

const POSIX = process.platform !== 'win32';

/** Errors of a filesystem that keeps no POSIX modes (FAT, some network mounts): nothing to set there. */
const NO_MODES = new Set(['EPERM', 'EROFS', 'ENOTSUP', 'EOPNOTSUPP']);

/**
 * chmod, tolerating a filesystem that has no modes to set: the profile must
 * still open from a USB stick. Logged (event only, no path).
 */
function setMode(path: string, mode: number): void {
  try {
    chmodSync(path, mode);
  } catch (error) {
    if (!NO_MODES.has((error as NodeJS.ErrnoException).code ?? '')) throw error;
    log.warn('profile.mode_not_set', { mode });
  }
}

/**
 * Makes the profile directory (and missing parents) and sets it to 0700, also
 * when it existed. INVALID_INPUT if the path is something else than a
 * directory, or a directory of another user. A symlink to a directory is
 * followed (a profile kept on another disk): the real directory gets 0700.
 */
export function secureProfileDirectory(dir: string): void {
  try {
    mkdirSync(dir, { recursive: true, mode: DIRECTORY_MODE });
  } catch (error) {
    // A file where the directory (or one of its parents) should be.
    if (!['EEXIST', 'ENOTDIR'].includes((error as NodeJS.ErrnoException).code ?? '')) throw error;
    throw new SottoError('INVALID_INPUT', 'the profile path is not a directory');
  }
  const stat = statSync(dir);
  if (!stat.isDirectory())
    throw new SottoError('INVALID_INPUT', 'the profile path is not a directory');
  if (!POSIX) return;
  if (typeof process.getuid === 'function' && stat.uid !== process.getuid()) {
    throw new SottoError('INVALID_INPUT', 'the profile directory belongs to another user');
  }
  if ((stat.mode & 0o777) !== DIRECTORY_MODE) setMode(dir, DIRECTORY_MODE);
}

/**
 * Creates `path` empty with mode 0600 if it does not exist, so that SQLite
 * opens a file of ours instead of creating one with 0644 & ~umask (its WAL
 * and shared-memory files then copy the database file's mode).
 */
export function precreatePrivateFile(path: string): void {
  try {
    closeSync(openSync(path, 'wx', FILE_MODE));
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
  }
  if (POSIX) setMode(path, FILE_MODE); // the umask may have taken bits off: 0600 exactly
}

/**
 * Sets the directory to 0700 and each existing profile file (database, WAL,
 * shared memory, lock, key file) to 0600. Run at create and at every open, so
 * a profile made by an older version or copied in is fixed on first use.
 */
export function secureProfileFiles(paths: ProfilePaths): void {
  if (!POSIX) return;
  if ((statSync(paths.dir).mode & 0o777) !== DIRECTORY_MODE) setMode(paths.dir, DIRECTORY_MODE);
  for (const file of [
    paths.database,
    `${paths.database}-wal`,
    `${paths.database}-shm`,
    paths.lock,
    paths.keyFile,
  ]) {
    try {
      const stat = lstatSync(file);
      // Never chmod through a symlink (it would change the target's mode).
      if (stat.isFile() && (stat.mode & 0o777) !== FILE_MODE) setMode(file, FILE_MODE);
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'ENOENT') throw error;
    }
  }
}
