import { randomBytes } from 'node:crypto';
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import Database, { setLogger } from '@signalapp/sqlcipher';
import type { AccountId } from '../shared/protocol/account-id.ts';
import type { PublishedKeys } from '../shared/protocol/keys.ts';
import { log } from './log.ts';
import { migrate } from './sqlite-schema.ts';
import { SqliteKeyDirectory } from './sqlite-keys.ts';
import {
  countsRowSchema,
  envelopeFromRow,
  identityKeyRowSchema,
  submissionRowSchema,
} from './sqlite-rows.ts';
import type {
  AckResult,
  Mailbox,
  NewEnvelope,
  OneTimeKeyCounts,
  RelayStorage,
  StoredEnvelope,
  StoreResult,
  TakenBundle,
} from './storage.ts';

// SQLite's diagnostic text can quote SQL and values; only the event reaches the log.
setLogger(() => log.warn('sqlite.diagnostic'));

/** The relay's database file inside the data directory. */
export const RELAY_DB_FILE = 'relay.db';

/**
 * RelayStorage on one SQLite file (`@signalapp/sqlcipher` used unkeyed, i.e. as
 * plain SQLite: envelopes are already ciphertext). WAL with synchronous=FULL,
 * so a resolved storeEnvelope has been fsynced; secure_delete so acked
 * ciphertext does not linger in free pages.
 */
export class SqliteRelayStorage implements RelayStorage {
  private readonly keys: SqliteKeyDirectory;

  private constructor(private readonly db: Database) {
    this.keys = new SqliteKeyDirectory(db);
  }

  /** Opens (creating if needed) `<dataDir>/relay.db` and brings its schema up to date. */
  static open(dataDir: string): SqliteRelayStorage {
    mkdirSync(dataDir, { recursive: true });
    const db = new Database(join(dataDir, RELAY_DB_FILE), { cacheStatements: true });
    try {
      db.exec('PRAGMA cipher_log_level = NONE');
      db.exec('PRAGMA journal_mode = WAL');
      db.exec('PRAGMA synchronous = FULL');
      db.exec('PRAGMA secure_delete = ON');
      db.exec('PRAGMA busy_timeout = 5000');
      migrate(db);
      return new SqliteRelayStorage(db);
    } catch (error) {
      db.close();
      throw error;
    }
  }

  boundIdentityKey(accountId: AccountId): Promise<Uint8Array | undefined> {
    return this.run(() => {
      const row = this.db
        .prepare('SELECT identity_key FROM accounts WHERE account_id = ?')
        .get([accountId]);
      return row === undefined ? undefined : identityKeyRowSchema.parse(row).identity_key;
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

  publishKeys(keys: PublishedKeys, now: number): Promise<void> {
    return this.run(() => this.db.transaction(() => this.keys.publish(keys, now))());
  }

  takeBundle(accountId: AccountId, deviceId: number): Promise<TakenBundle | undefined> {
    return this.run(() => this.db.transaction(() => this.keys.take(accountId, deviceId))());
  }

  oneTimeKeyCounts(accountId: AccountId, deviceId: number): Promise<OneTimeKeyCounts | undefined> {
    return this.run(() => this.keys.remaining(accountId, deviceId));
  }

  storeEnvelopes(envelopes: readonly NewEnvelope[], mailboxQuota: number): Promise<StoreResult[]> {
    // One transaction, one fsync, for the whole batch (send.batch).
    return this.run(() =>
      this.db.transaction(() => envelopes.map((e) => this.storeOne(e, mailboxQuota)))(),
    );
  }

  private storeOne(envelope: NewEnvelope, mailboxQuota: number): StoreResult {
    const previous = this.db
      .prepare('SELECT envelope_id FROM submissions WHERE sender = ? AND client_message_id = ?')
      .get([envelope.from, envelope.clientMessageId]);
    if (previous !== undefined)
      return { kind: 'duplicate', envelopeId: submissionRowSchema.parse(previous).envelope_id };
    if (this.count(envelope.to) >= mailboxQuota) return { kind: 'mailbox-full' };
    // 128 random bits: ids are unguessable, so knowing one proves having been told it.
    const envelopeId = randomBytes(16).toString('base64url');
    this.db
      .prepare(
        `INSERT INTO envelopes (id, recipient, recipient_device, sender, sender_device, ctype, body, received_at)
             VALUES (?, ?, ?, ?, ?, ?, ?, ?)`,
      )
      .run([
        envelopeId,
        envelope.to.accountId,
        envelope.to.deviceId,
        envelope.from,
        envelope.fromDevice,
        envelope.ctype,
        Uint8Array.from(envelope.body),
        envelope.receivedAt,
      ]);
    this.db
      .prepare(
        'INSERT INTO submissions (sender, client_message_id, envelope_id, received_at) VALUES (?, ?, ?, ?)',
      )
      .run([envelope.from, envelope.clientMessageId, envelopeId, envelope.receivedAt]);
    return { kind: 'stored', envelopeId };
  }

  listQueued(
    mailbox: Mailbox,
    limit: number,
    exclude: ReadonlySet<string>,
  ): Promise<StoredEnvelope[]> {
    return this.run(() =>
      this.db
        .prepare(
          // The sender's latest envelope is one lookup in envelopes_mailbox (recipient, device, sender, seq).
          `SELECT e.id, e.sender, e.sender_device, e.ctype, e.body, e.received_at
           FROM envelopes e
           WHERE e.recipient = $recipient AND e.recipient_device = $device
             AND e.id NOT IN (SELECT value FROM json_each($exclude))
           ORDER BY (SELECT max(l.seq) FROM envelopes l
                     WHERE l.recipient = e.recipient AND l.recipient_device = e.recipient_device AND l.sender = e.sender) DESC,
                    e.seq ASC
           LIMIT $limit`,
        )
        .all({
          recipient: mailbox.accountId,
          device: mailbox.deviceId,
          exclude: JSON.stringify([...exclude]),
          limit,
        })
        .map(envelopeFromRow),
    );
  }

  deleteAcked(mailbox: Mailbox, envelopeIds: readonly string[]): Promise<AckResult> {
    const ids = JSON.stringify(envelopeIds);
    return this.run(() =>
      this.db.transaction((): AckResult => {
        const foreign = this.db
          .prepare(
            `SELECT 1 FROM envelopes WHERE id IN (SELECT value FROM json_each(?))
               AND (recipient <> ? OR recipient_device <> ?) LIMIT 1`,
          )
          .get([ids, mailbox.accountId, mailbox.deviceId]);
        if (foreign !== undefined) return { kind: 'forbidden' };
        const { changes } = this.db
          .prepare(
            'DELETE FROM envelopes WHERE id IN (SELECT value FROM json_each(?)) AND recipient = ? AND recipient_device = ?',
          )
          .run([ids, mailbox.accountId, mailbox.deviceId]);
        return { kind: 'deleted', count: changes };
      })(),
    );
  }

  countQueued(mailbox: Mailbox): Promise<number> {
    return this.run(() => this.count(mailbox));
  }

  expireBefore(cutoff: number): Promise<number> {
    return this.run(() =>
      this.db.transaction(() => {
        const { changes } = this.db
          .prepare('DELETE FROM envelopes WHERE received_at < ?')
          .run([cutoff]);
        this.db.prepare('DELETE FROM submissions WHERE received_at < ?').run([cutoff]);
        return changes;
      })(),
    );
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

  private count(mailbox: Mailbox): number {
    const row = this.db
      .prepare('SELECT count(*) AS n FROM envelopes WHERE recipient = ? AND recipient_device = ?')
      .get([mailbox.accountId, mailbox.deviceId]);
    return countsRowSchema.parse(row).n;
  }
}
