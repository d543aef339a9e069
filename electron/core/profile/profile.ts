import { timingSafeEqual } from 'node:crypto';
import { existsSync, rmSync, statSync } from 'node:fs';
import { SottoError } from '../errors.ts';
import { checkIntegrity, type IntegrityReport } from '../db/integrity.ts';
import { migrate } from '../db/migrate.ts';
import { ProfileLock } from '../db/profile-lock.ts';
import { openKeyed, type Sql } from '../db/sqlite.ts';
import { cleanAttachmentOrphans } from '../attachments/attachment-files.ts';
import { createAccount } from '../crypto/account.ts';
import { ensureMessageIndexes } from '../history/deferred-indexes.ts';
import { pruneDeleted, pruneWhileOpen } from '../history/deleted-messages.ts';
import { indexNewMessages } from '../history/search-index.ts';
import { ProtocolState, type LocalAccount } from '../crypto/protocol-state.ts';
import type { ProtocolTransaction } from '../crypto/protocol-transaction.ts';
import {
  createDatabaseKey,
  type KeyProtection,
  rewrapPassphrase,
  unwrapDatabaseKey,
  type UnlockWith,
} from '../keys/database-key.ts';
import { readKeyFile, writeKeyFile } from '../keys/keyfile.ts';
import type { KdfCost } from '../keys/passphrase.ts';
import { assertStrongPassphrase } from '../keys/passphrase-policy.ts';
import { log } from '../log.ts';
import { normalizeDisplayName } from './display-name.ts';
import { type ProfilePaths, profilePaths } from './paths.ts';
import { precreatePrivateFile, secureProfileDirectory, secureProfileFiles } from './permissions.ts';

/** Options that tune a profile for tests and benchmarks. */
export interface ProfileOptions {
  /** Hot-session cache size (0 disables it). */
  readonly sessionCacheSize?: number;
  /** The pruning of deleted-message entries while open (default: every 6 h, the real clock). */
  readonly deletedPruning?: { readonly intervalMs: number; readonly now: () => number };
}

const SQLITE_PAGE = 4096;

/**
 * An open profile: the unlocked SQLCipher database, the account and its
 * protocol state, and the process lock. Services (contacts, messaging,
 * history) are built on it; see electron/core/index.ts.
 */
export class Profile {
  /** Resolves when the background integrity check (R7) finishes. */
  readonly integrity: Promise<IntegrityReport>;
  private readonly cancelIntegrity: () => void;
  private damaged = false;
  private closed = false;
  private exclusiveTail: Promise<unknown> = Promise.resolve();
  private readonly stopPruning: () => void;

  private constructor(
    readonly paths: ProfilePaths,
    readonly db: Sql,
    readonly state: ProtocolState,
    private readonly key: Uint8Array,
    private readonly lock: ProfileLock,
    options: ProfileOptions,
  ) {
    this.stopPruning = pruneWhileOpen(this, options.deletedPruning);
    const check = checkIntegrity(paths.database, key);
    this.cancelIntegrity = () => check.cancel();
    this.integrity = check.report.then(
      (report) => {
        if (!report.ok) {
          this.damaged = true;
          log.error('profile.integrity', new SottoError('DB_CORRUPT'), {
            problems: report.problems,
          });
        }
        return report;
      },
      (error: unknown) => {
        // A check that could not run proves nothing: fail safe, as for damage.
        this.damaged = true;
        log.error('profile.integrity', error);
        return { ok: false, millis: 0, problems: 1 } as const;
      },
    );
  }

  get account(): LocalAccount {
    return this.state.account;
  }

  /**
   * Creates a new profile in `dir` (made if missing) and opens it. The name
   * and passphrase are checked before anything is written (INVALID_NAME,
   * WEAK_PASSPHRASE); the directory ends up 0700 and its files 0600.
   */
  static async create(
    dir: string,
    options: KeyProtection & { displayName: string } & ProfileOptions,
  ): Promise<Profile> {
    const paths = profilePaths(dir);
    const displayName = normalizeDisplayName(options.displayName);
    if (options.passphrase !== undefined)
      await assertStrongPassphrase(options.passphrase, [displayName]);
    if (existsSync(paths.keyFile)) throw new SottoError('PROFILE_EXISTS');
    secureProfileDirectory(dir);
    precreatePrivateFile(paths.lock);
    const lock = ProfileLock.acquire(paths.lock);
    let db: Sql | undefined;
    try {
      const { key, file } = await createDatabaseKey(options);
      // No key file means an earlier create never finished: its database is unreadable anyway.
      for (const suffix of ['', '-wal', '-shm']) rmSync(paths.database + suffix, { force: true });
      precreatePrivateFile(paths.database);
      db = openKeyed(paths.database, key);
      migrate(db);
      const account = createAccount(db, displayName);
      // The key file is written last: until it exists, there is no profile.
      writeKeyFile(paths.keyFile, file);
      secureProfileFiles(paths);
      const profile = new Profile(
        paths,
        db,
        new ProtocolState(db, account, options.sessionCacheSize),
        key,
        lock,
        options,
      );
      // Before any transfer job: files of a crash between a file write and its row's commit.
      try {
        cleanAttachmentOrphans(profile);
      } catch (error) {
        // Leftover files are only space: they must not lock the user out of the profile.
        log.error('attachments.orphans', error);
      }
      return profile;
    } catch (error) {
      db?.close();
      lock.release();
      throw error;
    }
  }

  /**
   * Opens an existing profile. Every failure (wrong passphrase, damaged key
   * file or database, newer schema, already open) is a SottoError raised
   * before anything in the directory is written.
   */
  static async open(
    dir: string,
    unlock: UnlockWith,
    options: ProfileOptions = {},
  ): Promise<Profile> {
    const paths = profilePaths(dir);
    if (!existsSync(paths.keyFile)) throw new SottoError('PROFILE_NOT_FOUND');
    const lock = ProfileLock.acquire(paths.lock);
    let db: Sql | undefined;
    try {
      const key = await unwrapDatabaseKey(readKeyFile(paths.keyFile), unlock);
      // An empty or missing file would open as a brand-new database: refuse it.
      if (!existsSync(paths.database) || statSync(paths.database).size < SQLITE_PAGE) {
        throw new SottoError('DB_CORRUPT', 'database missing or empty');
      }
      db = openKeyed(paths.database, key);
      migrate(db);
      const account = ProtocolState.loadAccount(db);
      if (!account) throw new SottoError('DB_CORRUPT', 'no account');
      const opened = db;
      // Catch up after an interrupted import: its dropped indexes, then search;
      // and forget deleted uuids no resend can still bring back.
      opened.transaction(() => {
        ensureMessageIndexes(opened);
        indexNewMessages(opened);
        pruneDeleted(opened, Date.now());
      })();
      // Only once the user proved to be the owner: a refused open changes nothing, not even modes.
      secureProfileFiles(paths);
      const profile = new Profile(
        paths,
        db,
        new ProtocolState(db, account, options.sessionCacheSize),
        key,
        lock,
        options,
      );
      // Before any transfer job: files of a crash between a file write and its row's commit.
      try {
        cleanAttachmentOrphans(profile);
      } catch (error) {
        // Leftover files are only space: they must not lock the user out of the profile.
        log.error('attachments.orphans', error);
      }
      return profile;
    } catch (error) {
      db?.close();
      lock.release();
      throw error;
    }
  }

  /**
   * Runs `write` in one SQLite transaction together with the protocol-state
   * changes of `tx` (invariant R2). The session cache sees them only after the
   * commit succeeded.
   */
  commit<T>(tx: ProtocolTransaction | undefined, write: (db: Sql) => T, now = Date.now()): T {
    this.assertUsable();
    let publish = () => {};
    const result = this.db.transaction(() => {
      const written = write(this.db);
      // After `write`: an identity change must flag a conversation this transaction created.
      if (tx) publish = this.state.apply(tx.writes, now);
      return written;
    })();
    publish();
    return result;
  }

  /**
   * Runs async units of work over the protocol state one at a time. Two
   * interleaved decrypt or encrypt passes would each build on the same
   * committed session and the second commit would undo the first's ratchet step.
   */
  exclusive<T>(work: () => Promise<T>): Promise<T> {
    const run = this.exclusiveTail.then(work, work);
    this.exclusiveTail = run.catch(() => undefined);
    return run;
  }

  /** Throws DB_CORRUPT once the integrity check found damage: no writes into a damaged file. */
  assertUsable(): void {
    if (this.closed) throw new Error('profile is closed');
    if (this.damaged) throw new SottoError('DB_CORRUPT');
  }

  /** Resolves if the integrity check passed; rejects with DB_CORRUPT if it found damage. */
  async verifyIntegrity(): Promise<IntegrityReport> {
    const report = await this.integrity;
    if (!report.ok) throw new SottoError('DB_CORRUPT', `${report.problems} problems`);
    return report;
  }

  /**
   * Hands `open` the database path and key so it can open a second, read-only
   * connection of its own (in a worker thread) for a long read that must not
   * hold the main connection or its thread: the backup export. Core-internal:
   * `open` must keep the key in the core and never log it.
   */
  openReadConnection<T>(open: (database: string, key: Uint8Array) => T): T {
    this.assertUsable();
    return open(this.paths.database, this.key);
  }

  /**
   * Re-wraps the database key under a new passphrase; the database is not
   * rewritten. WEAK_PASSPHRASE (checked first) or WRONG_PASSPHRASE change nothing.
   */
  async changePassphrase(current: string, next: string, kdfCost?: KdfCost): Promise<void> {
    await assertStrongPassphrase(next, [this.account.displayName]);
    const file = readKeyFile(this.paths.keyFile);
    await this.verifyUnlock({ passphrase: current });
    writeKeyFile(this.paths.keyFile, await rewrapPassphrase(file, this.key, next, kdfCost));
  }

  /**
   * Checks that `unlock` opens this profile's key file, without reopening
   * anything (the desktop app's lock screen). WRONG_PASSPHRASE otherwise.
   */
  async verifyUnlock(unlock: UnlockWith): Promise<void> {
    const key = await unwrapDatabaseKey(readKeyFile(this.paths.keyFile), unlock);
    if (key.length !== this.key.length || !timingSafeEqual(key, this.key))
      throw new SottoError('WRONG_PASSPHRASE');
  }

  /**
   * Closes the database and releases the lock. A background integrity check
   * still running is stopped after the table it is on (never mid-statement:
   * that would abort the process), so closing does not wait for the whole check.
   */
  async close(): Promise<void> {
    if (this.closed) return;
    this.stopPruning();
    this.cancelIntegrity();
    await this.integrity;
    this.closed = true;
    this.db.close();
    this.lock.release();
  }
}
