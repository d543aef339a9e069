import { randomBytes } from 'node:crypto';
import { existsSync, readdirSync, renameSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { SottoError } from '../errors.ts';
import { migrate, SCHEMA_VERSION, schemaVersion } from '../db/migrate.ts';
import { ProfileLock } from '../db/profile-lock.ts';
import { openKeyed, type Sql } from '../db/sqlite.ts';
import { fsyncDirectory } from '../fs-atomic.ts';
import {
  createDatabaseKey,
  type KeyProtection,
  unwrapDatabaseKey,
  type UnlockWith,
} from '../keys/database-key.ts';
import { readKeyFile, writeKeyFile } from '../keys/keyfile.ts';
import { profilePaths } from '../profile/paths.ts';
import {
  precreatePrivateFile,
  secureProfileDirectory,
  secureProfileFiles,
} from '../profile/permissions.ts';
import type { BackupManifest, DataRecord } from './format/records.ts';
import { identityCheckHooks } from './identity-check.ts';
import { type BackupRunOptions, throwIfCancelled } from './progress.ts';
import { type RestoreCounts, RestoreWriter } from './restore-db.ts';
import { AttachmentRestorer } from './restore-attachments.ts';
import { readBackup } from './verify.ts';

/** Options for `importBackup`. */
export interface ImportBackupOptions extends BackupRunOptions {
  /** The backup's passphrase (or recovery key). */
  readonly passphrase: string;
  /** Unlocks the existing profile in the directory (merge). */
  readonly unlock?: UnlockWith;
  /** How to protect the new profile's database key when the directory has no profile (full restore). */
  readonly create?: KeyProtection;
}

/** What an import did. */
export interface ImportReport extends RestoreCounts {
  /** True if a new profile was made from the backup; false if it was merged into an existing one. */
  readonly created: boolean;
  readonly manifest: BackupManifest;
  /** Attachment rows restored (with their files, or as pointers to download). */
  readonly attachmentsRestored: number;
  /** Attachment records not restored (no such message of their sender, an ambiguous old record, already present). */
  readonly attachmentsSkipped: number;
}

const TEMP_PREFIX = 'sotto.db.restore-';

/**
 * Restores a backup into the profile directory `dir` (R6):
 *
 * 1. the whole file is read, authenticated and every record validated, with
 *    nothing written (WRONG_BACKUP_PASSPHRASE, BACKUP_TAMPERED, BACKUP_TRUNCATED,
 *    BACKUP_TRAILING_DATA, BACKUP_UNSUPPORTED_VERSION, IDENTITY_MISMATCH for
 *    an identity key that does not derive its account id, and
 *    BACKUP_WRONG_ACCOUNT for another account's profile, all raised here);
 * 2. the records are written into a new database file beside the profile's:
 *    a fresh one when `dir` holds no profile (everything is restored; needs
 *    `create`), else a copy of the existing profile (needs `unlock`; the same
 *    account's messages are merged by sender and uuid, so restoring twice adds nothing);
 * 3. the new file replaces `sotto.db` with one rename.
 *
 * A crash or CANCELLED before step 3 leaves the previous state intact (at
 * worst a `sotto.db.restore-*` file, removed by the next import). The profile
 * must not be open: this takes its lock (PROFILE_LOCKED otherwise).
 */
export async function importBackup(
  dir: string,
  file: string,
  options: ImportBackupOptions,
): Promise<ImportReport> {
  const paths = profilePaths(dir);
  if (existsSync(paths.keyFile)) {
    if (!options.unlock) throw new SottoError('PASSPHRASE_REQUIRED');
    return mergeInto(dir, file, options.unlock, options);
  }
  if (!options.create) throw new SottoError('PROFILE_NOT_FOUND');
  return restoreNew(dir, file, options.create, options);
}

/** Pass 1: the whole file, validated (identity keys included), nothing written. */
async function verifyAll(
  file: string,
  options: ImportBackupOptions,
  expectedAccount?: string,
): Promise<BackupManifest> {
  const { manifest } = await readBackup(file, options.passphrase, {
    phase: 'verify',
    deep: true,
    signal: options.signal,
    onProgress: options.onProgress,
    ...identityCheckHooks((m) => {
      if (expectedAccount !== undefined && m.accountId !== expectedAccount)
        throw new SottoError('BACKUP_WRONG_ACCOUNT');
    }),
  });
  return manifest;
}

/**
 * Pass 2: every record into `db` through a RestoreWriter, attachments'
 * files into `dir`'s attachments folder (deleted again if this fails).
 */
async function writeAll(
  db: Sql,
  dir: string,
  file: string,
  mode: 'full' | 'merge',
  accountId: string,
  options: ImportBackupOptions,
): Promise<RestoreCounts & { attachmentsRestored: number; attachmentsSkipped: number }> {
  const writer = new RestoreWriter(db, mode, accountId);
  const attachments = new AttachmentRestorer(db, dir);
  try {
    await readBackup(file, options.passphrase, {
      phase: 'import',
      signal: options.signal,
      onProgress: options.onProgress,
      onRecords: async (records: readonly DataRecord[]) => {
        throwIfCancelled(options.signal);
        // Attachment records come last in the stream: everything before them in a batch goes first.
        writer.apply(records.filter((r) => r.type !== 'attachment' && r.type !== 'attachmentData'));
        for (const r of records) {
          if (r.type === 'attachment') await attachments.attachment(r);
          else if (r.type === 'attachmentData') await attachments.data(r);
        }
      },
    });
    await attachments.finish();
    const counts = writer.finish();
    const files = db.transaction(() => attachments.resolve(Date.now()))();
    return { ...counts, attachmentsRestored: files.restored, attachmentsSkipped: files.skipped };
  } catch (error) {
    await attachments.abort();
    throw error;
  }
}

async function restoreNew(
  dir: string,
  file: string,
  protection: KeyProtection,
  options: ImportBackupOptions,
): Promise<ImportReport> {
  const verified = await verifyAll(file, options);
  const paths = profilePaths(dir);
  const madeDir = !existsSync(dir);
  // The profile's modes from the start (0700, files 0600), as Profile.create makes them.
  secureProfileDirectory(dir);
  precreatePrivateFile(paths.lock);
  const lock = ProfileLock.acquire(paths.lock);
  const temp = join(dir, `${TEMP_PREFIX}${randomBytes(6).toString('hex')}`);
  let db: Sql | undefined;
  let restored = false;
  try {
    if (existsSync(paths.keyFile)) throw new SottoError('PROFILE_EXISTS');
    removeStaleTemps(dir);
    const { key, file: keyFile } = await createDatabaseKey(protection);
    precreatePrivateFile(temp);
    db = openKeyed(temp, key);
    migrate(db);
    const counts = await writeAll(db, dir, file, 'full', verified.accountId, options);
    db.close();
    db = undefined;
    throwIfCancelled(options.signal);
    options.onProgress?.({ phase: 'swap', done: 0, total: 1, unit: 'records' });
    // A database without a key file is the leftover of an unfinished create: never a profile.
    for (const suffix of ['-wal', '-shm']) rmSync(paths.database + suffix, { force: true });
    renameSync(temp, paths.database);
    fsyncDirectory(dir);
    // The key file last: until it exists there is no profile (as in Profile.create).
    writeKeyFile(paths.keyFile, keyFile);
    secureProfileFiles(paths);
    restored = true;
    options.onProgress?.({ phase: 'swap', done: 1, total: 1, unit: 'records' });
    return { ...counts, created: true, manifest: verified };
  } finally {
    db?.close();
    removeTemp(temp);
    lock.release();
    // A failed or cancelled restore into a directory it made leaves no directory behind.
    if (!restored && madeDir) rmSync(dir, { recursive: true, force: true });
  }
}

async function mergeInto(
  dir: string,
  file: string,
  unlock: UnlockWith,
  options: ImportBackupOptions,
): Promise<ImportReport> {
  const paths = profilePaths(dir);
  const lock = ProfileLock.acquire(paths.lock);
  const temp = join(dir, `${TEMP_PREFIX}${randomBytes(6).toString('hex')}`);
  let live: Sql | undefined;
  let copy: Sql | undefined;
  try {
    const key = await unwrapDatabaseKey(readKeyFile(paths.keyFile), unlock);
    live = openKeyed(paths.database, key);
    const version = schemaVersion(live);
    if (version > SCHEMA_VERSION) throw new SottoError('PROFILE_TOO_NEW', `schema ${version}`);
    const accountId = live.prepare('SELECT account_id FROM account', { pluck: true }).get();
    if (typeof accountId !== 'string') throw new SottoError('DB_CORRUPT', 'no account');
    const verified = await verifyAll(file, options, accountId);

    // Pass 2 works on a copy; the live file is only read.
    removeStaleTemps(dir);
    precreatePrivateFile(temp);
    live.exec(
      `ATTACH DATABASE '${temp.replaceAll("'", "''")}' AS restored KEY "x'${Buffer.from(key).toString('hex')}'"`,
    );
    live.prepare("SELECT sqlcipher_export('restored')").get();
    live.exec('DETACH DATABASE restored');
    live.close();
    live = undefined;
    copy = openKeyed(temp, key);
    copy.exec(`PRAGMA user_version = ${version}`); // sqlcipher_export copies tables, not the header
    migrate(copy);
    const counts = await writeAll(copy, dir, file, 'merge', accountId, options);
    copy.close();
    copy = undefined;
    throwIfCancelled(options.signal);
    options.onProgress?.({ phase: 'swap', done: 0, total: 1, unit: 'records' });
    renameSync(temp, paths.database);
    fsyncDirectory(dir);
    secureProfileFiles(paths);
    options.onProgress?.({ phase: 'swap', done: 1, total: 1, unit: 'records' });
    return { ...counts, created: false, manifest: verified };
  } finally {
    live?.close();
    copy?.close();
    removeTemp(temp);
    lock.release();
  }
}

function removeTemp(temp: string): void {
  for (const suffix of ['', '-wal', '-shm', '-journal']) rmSync(temp + suffix, { force: true });
}

/** Leftovers of an import that was killed (we hold the lock, so none is in use). */
function removeStaleTemps(dir: string): void {
  for (const name of readdirSync(dir))
    if (name.startsWith(TEMP_PREFIX)) rmSync(join(dir, name), { force: true });
}
