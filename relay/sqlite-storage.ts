import { chmodSync, existsSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import Database, { setLogger } from '@signalapp/sqlcipher';
import type { AccountId } from '../shared/protocol/account-id.ts';
import type { PublishedKeys } from '../shared/protocol/keys.ts';
import type { RelayId } from '../shared/relay/protocol.ts';
import { log } from './log.ts';
import type { BlobId } from '../shared/protocol/attachment.ts';
import { SqliteBlobs } from './sqlite-blobs.ts';
import { SqliteMailboxes } from './sqlite-envelopes.ts';
import { SqliteKeyDirectory } from './sqlite-keys.ts';
import {
  accountFromRow,
  identityKeyRowSchema,
  movedRowSchema,
  relayIdRowSchema,
} from './sqlite-rows.ts';
import { migrate } from './sqlite-schema.ts';
import type {
  AccountRecord,
  AckResult,
  DeviceRegistration,
  ExpiredBlob,
  KeyIds,
  Mailbox,
  NewBlob,
  NewEnvelope,
  OneTimeKeyCounts,
  PublishResult,
  RelayStorage,
  StoredBlob,
  StoredEnvelope,
  StoreLimits,
  StoreResult,
  TakenBundle,
} from './storage.ts';

// SQLite's diagnostic text can quote SQL and values; only the event reaches the log.
setLogger(() => log.warn('sqlite.diagnostic'));

/** The relay's database file inside the data directory. */
export const RELAY_DB_FILE = 'relay.db';

/** SQLite's error code (SQLITE_FULL, SQLITE_CONSTRAINT_UNIQUE…), or ''. */
function sqliteCode(error: unknown): string {
  const code = error instanceof Error ? (error as { code?: unknown }).code : undefined;
  return typeof code === 'string' ? code : '';
}

/** The files of the database that hold data (SQLite creates the last two next to the first). */
const DB_FILES = [RELAY_DB_FILE, `${RELAY_DB_FILE}-wal`, `${RELAY_DB_FILE}-shm`];

/**
 * RelayStorage on one SQLite file (`@signalapp/sqlcipher` used unkeyed, i.e. as
 * plain SQLite: envelopes are already ciphertext). WAL with synchronous=FULL,
 * so a resolved storeEnvelopes has been fsynced; secure_delete so acked
 * ciphertext does not linger in free pages. Only the relay's user may read
 * the directory (0700) and the files (0600), even if they existed before.
 */
export class SqliteRelayStorage implements RelayStorage {
  private readonly keys: SqliteKeyDirectory;
  private readonly mailboxes: SqliteMailboxes;
  private readonly blobs: SqliteBlobs;

  private constructor(
    private readonly db: Database,
    readonly relayId: RelayId,
  ) {
    this.keys = new SqliteKeyDirectory(db);
    this.mailboxes = new SqliteMailboxes(db);
    this.blobs = new SqliteBlobs(db);
  }

  /**
   * Opens (creating if needed) `<dataDir>/relay.db` and brings its schema up to
   * date. Throws ProtocolOneDataError for a protocol-1 database (left untouched).
   */
  static open(dataDir: string): SqliteRelayStorage {
    mkdirSync(dataDir, { recursive: true, mode: 0o700 });
    chmodSync(dataDir, 0o700);
    const file = join(dataDir, RELAY_DB_FILE);
    const db = new Database(file, { cacheStatements: true });
    try {
      // Before SQLite writes anything (the WAL and SHM copy the database's mode).
      chmodSync(file, 0o600);
      db.exec('PRAGMA cipher_log_level = NONE');
      db.exec('PRAGMA secure_delete = ON');
      db.exec('PRAGMA busy_timeout = 5000');
      migrate(db);
      db.exec('PRAGMA journal_mode = WAL');
      db.exec('PRAGMA synchronous = FULL');
      for (const name of DB_FILES) {
        const path = join(dataDir, name);
        if (existsSync(path)) chmodSync(path, 0o600);
      }
      const relayId = relayIdRowSchema.parse(
        db.prepare("SELECT value FROM relay_meta WHERE key = 'relay_id'").get(),
      ).value;
      return new SqliteRelayStorage(db, relayId);
    } catch (error) {
      db.close();
      throw error;
    }
  }

  account(accountId: AccountId): Promise<AccountRecord | undefined> {
    return this.run(() => {
      const row = this.db
        .prepare('SELECT identity_key, token_hash, moved_at FROM accounts WHERE account_id = ?')
        .get([accountId]);
      return row === undefined ? undefined : accountFromRow(row);
    });
  }

  bindIdentityKey(accountId: AccountId, identityKey: Uint8Array, now: number): Promise<Uint8Array> {
    return this.run(() =>
      this.db.transaction(() => {
        this.db
          .prepare(
            'INSERT INTO accounts (account_id, identity_key, bound_at) VALUES (?, ?, ?) ON CONFLICT (account_id) DO NOTHING',
          )
          .run([accountId, Uint8Array.from(identityKey), now]);
        const row = this.db
          .prepare('SELECT identity_key FROM accounts WHERE account_id = ?')
          .get([accountId]);
        return identityKeyRowSchema.parse(row).identity_key;
      })(),
    );
  }

  setTokenHash(accountId: AccountId, tokenHash: Uint8Array): Promise<void> {
    return this.run(() => {
      this.db
        .prepare('UPDATE accounts SET token_hash = ? WHERE account_id = ?')
        .run([Uint8Array.from(tokenHash), accountId]);
    });
  }

  movedAmong(accountIds: readonly AccountId[]): Promise<AccountId[]> {
    return this.run(() =>
      this.db
        .prepare(
          `SELECT account_id FROM accounts WHERE moved_at IS NOT NULL
             AND account_id IN (SELECT value FROM json_each(?))`,
          { pluck: true },
        )
        .all<AccountId>([JSON.stringify(accountIds)]),
    );
  }

  markMoved(from: AccountId, now: number): Promise<void> {
    return this.run(() =>
      this.db.transaction(() => {
        this.db
          .prepare('UPDATE accounts SET moved_at = ? WHERE account_id = ? AND moved_at IS NULL')
          .run([now, from]);
        this.keys.forget(from);
      })(),
    );
  }

  publishKeys(keys: PublishedKeys, now: number, maxStored: number): Promise<PublishResult> {
    return this.run(() =>
      this.db.transaction(() => {
        const owner = this.db
          .prepare('SELECT moved_at FROM accounts WHERE account_id = ?')
          .get([keys.accountId]);
        // A publish still on its way when the move committed (markMoved deleted the keys).
        if (owner !== undefined && movedRowSchema.parse(owner).moved_at !== null) return 'moved';
        return this.keys.publish(keys, now, maxStored);
      })(),
    );
  }

  takeBundle(
    accountId: AccountId,
    deviceId: number,
    now: number,
  ): Promise<TakenBundle | undefined> {
    return this.run(() => this.db.transaction(() => this.keys.take(accountId, deviceId, now))());
  }

  forgetTakenKeys(cutoff: number, limit: number): Promise<number> {
    return this.run(() => this.keys.forgetTaken(cutoff, limit));
  }

  oneTimeKeyCounts(accountId: AccountId, deviceId: number): Promise<OneTimeKeyCounts | undefined> {
    return this.run(() => this.keys.remaining(accountId, deviceId));
  }

  keyIds(accountId: AccountId, deviceId: number): Promise<KeyIds> {
    return this.run(() => this.db.transaction(() => this.keys.ids(accountId, deviceId))());
  }

  devicesOf(accountIds: readonly AccountId[]): Promise<DeviceRegistration[]> {
    return this.run(() => this.keys.devicesOf(accountIds));
  }

  storeEnvelopes(envelopes: readonly NewEnvelope[], limits: StoreLimits): Promise<StoreResult[]> {
    // One transaction, one fsync, for the whole batch (send.batch).
    return this.run(() => {
      try {
        return this.db.transaction(() => envelopes.map((e) => this.mailboxes.store(e, limits)))();
      } catch (error) {
        // The disk filled up first: the transaction rolled back, nothing is half-written.
        if (sqliteCode(error).startsWith('SQLITE_FULL'))
          return envelopes.map((): StoreResult => ({ kind: 'storage-full' }));
        throw error;
      }
    });
  }

  listQueued(mailbox: Mailbox, afterSeq: number, limit: number): Promise<StoredEnvelope[]> {
    return this.run(() => this.mailboxes.list(mailbox, afterSeq, limit));
  }

  deleteAcked(mailbox: Mailbox, envelopeIds: readonly string[]): Promise<AckResult> {
    return this.run(() =>
      this.db.transaction(() => this.mailboxes.deleteAcked(mailbox, envelopeIds))(),
    );
  }

  countQueued(mailbox: Mailbox): Promise<number> {
    return this.run(() => this.mailboxes.usage(mailbox).envelopes);
  }

  expireBefore(cutoff: number, limit: number): Promise<number> {
    return this.run(() => this.db.transaction(() => this.mailboxes.expire(cutoff, limit))());
  }

  createBlob(blob: NewBlob, quotaBytes: number, now: number): Promise<'created' | 'over-quota'> {
    return this.run(() => this.db.transaction(() => this.blobs.create(blob, quotaBytes, now))());
  }

  blob(blobId: BlobId): Promise<StoredBlob | undefined> {
    return this.run(() => this.blobs.get(blobId));
  }

  completeBlob(blobId: BlobId): Promise<void> {
    return this.run(() => this.blobs.complete(blobId));
  }

  expiredBlobs(now: number, limit: number): Promise<ExpiredBlob[]> {
    return this.run(() => this.blobs.expired(now, limit));
  }

  deleteBlobs(blobIds: readonly BlobId[]): Promise<void> {
    return this.run(() => this.db.transaction(() => this.blobs.delete(blobIds))());
  }

  close(): Promise<void> {
    return this.run(() => this.db.close());
  }

  /** Runs a synchronous SQLite step behind the Promise-returning interface; a throw becomes a rejection. */
  private run<T>(step: () => T): Promise<T> {
    try {
      return Promise.resolve(step());
    } catch (error) {
      return Promise.reject(error instanceof Error ? error : new Error('sqlite failure'));
    }
  }
}
