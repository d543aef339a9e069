import Database from '@signalapp/sqlcipher';
import { SottoError } from '../errors.ts';

/**
 * One process per profile. The lock is an exclusive SQLite lock on a small
 * empty file, held for the life of the connection: the OS releases it when the
 * process dies, so a crash or kill -9 never leaves a stale lock behind, and a
 * refused second opener writes nothing.
 */
export class ProfileLock {
  private constructor(private readonly db: Database) {}

  /** Takes the lock or throws PROFILE_LOCKED. */
  static acquire(path: string): ProfileLock {
    const db = new Database(path);
    try {
      db.exec('PRAGMA journal_mode = OFF');
      db.exec('PRAGMA locking_mode = EXCLUSIVE');
      db.exec('BEGIN EXCLUSIVE');
      db.exec('COMMIT');
      return new ProfileLock(db);
    } catch (error) {
      db.close();
      if (
        error instanceof Error &&
        /SQLITE_BUSY|database is locked/i.test(
          `${(error as { code?: string }).code} ${error.message}`,
        )
      ) {
        throw new SottoError('PROFILE_LOCKED', undefined, { cause: error });
      }
      throw error;
    }
  }

  /** Releases the lock. */
  release(): void {
    this.db.close();
  }
}
