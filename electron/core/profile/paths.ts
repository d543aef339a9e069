import { join } from 'node:path';

/**
 * The files of a profile directory. Nothing else in it holds user data: the
 * database (and SQLite's `-wal`/`-shm` beside it while open) is SQLCipher, the
 * key file holds only wrapped keys, the lock file is empty.
 */
export function profilePaths(dir: string) {
  return {
    dir,
    database: join(dir, 'sotto.db'),
    keyFile: join(dir, 'sotto.key'),
    lock: join(dir, 'sotto.lock'),
  } as const;
}

export type ProfilePaths = ReturnType<typeof profilePaths>;
