import { randomBytes, timingSafeEqual } from 'node:crypto';
import type Database from '@signalapp/sqlcipher';
import {
  envelopeFromRow,
  envelopeIdRowSchema,
  tokenRowSchema,
  usageRowSchema,
} from './sqlite-rows.ts';
import type {
  AckResult,
  Mailbox,
  NewEnvelope,
  StoredEnvelope,
  StoreLimits,
  StoreResult,
} from './storage.ts';

/** The global usage row of mailbox_usage (see sqlite-schema.ts). */
const TOTAL: Mailbox = { accountId: '' as Mailbox['accountId'], deviceId: 0 };

/**
 * The mailbox half of the SQLite storage. Synchronous steps; the caller
 * (SqliteRelayStorage) wraps each in a transaction. Sizes come from the
 * counters the triggers maintain, so intake costs the same whatever a mailbox holds.
 */
export class SqliteMailboxes {
  constructor(private readonly db: Database) {}

  /** Stores one envelope unless it is a resubmit or over a limit. */
  store(envelope: NewEnvelope, limits: StoreLimits): StoreResult {
    const { to } = envelope;
    if (envelope.tokenHash !== undefined) {
      // Before the duplicate check: a wrong token learns nothing about what is queued.
      const refusal = this.tokenRefusal(to, envelope.tokenHash);
      if (refusal !== undefined) return refusal;
    }
    const previous = this.db
      .prepare(
        'SELECT id FROM envelopes WHERE recipient = ? AND recipient_device = ? AND client_message_id = ?',
      )
      .get([to.accountId, to.deviceId, envelope.clientMessageId]);
    if (previous !== undefined)
      return { kind: 'duplicate', envelopeId: envelopeIdRowSchema.parse(previous).id };
    if (this.usage(to).envelopes >= limits.mailboxQuota) return { kind: 'mailbox-full' };
    if (this.usage(TOTAL).bytes + envelope.body.length > limits.maxStorageBytes)
      return { kind: 'storage-full' };
    // 128 random bits: ids are unguessable, so knowing one proves having been told it.
    const envelopeId = randomBytes(16).toString('base64url');
    this.db
      .prepare(
        `INSERT INTO envelopes (id, recipient, recipient_device, client_message_id, body, received_at)
         VALUES (?, ?, ?, ?, ?, ?)`,
      )
      .run([
        envelopeId,
        to.accountId,
        to.deviceId,
        envelope.clientMessageId,
        Uint8Array.from(envelope.body),
        envelope.receivedAt,
      ]);
    return { kind: 'stored', envelopeId };
  }

  /** 'bad-token' unless `tokenHash` is the account's delivery token hash; 'moved' if it is and the account moved. */
  private tokenRefusal(to: Mailbox, tokenHash: Uint8Array): StoreResult | undefined {
    const row = this.db
      .prepare('SELECT token_hash, moved_at FROM accounts WHERE account_id = ?')
      .get([to.accountId]);
    const owner = row === undefined ? undefined : tokenRowSchema.parse(row);
    const known = owner?.token_hash ?? undefined;
    if (known?.length !== tokenHash.length || !timingSafeEqual(known, tokenHash))
      return { kind: 'bad-token' };
    return owner?.moved_at == null ? undefined : { kind: 'moved' };
  }

  /** Up to `limit` envelopes of a mailbox after `afterSeq`, in arrival order. */
  list(mailbox: Mailbox, afterSeq: number, limit: number): StoredEnvelope[] {
    return this.db
      .prepare(
        `SELECT seq, id, body, received_at FROM envelopes
         WHERE recipient = ? AND recipient_device = ? AND seq > ?
         ORDER BY seq LIMIT ?`,
      )
      .all([mailbox.accountId, mailbox.deviceId, afterSeq, limit])
      .map(envelopeFromRow);
  }

  /** Deletes acked envelopes; nothing at all if one id belongs to another mailbox. */
  deleteAcked(mailbox: Mailbox, envelopeIds: readonly string[]): AckResult {
    const ids = JSON.stringify(envelopeIds);
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
  }

  /** Deletes at most `limit` of the oldest envelopes received before `cutoff`. */
  expire(cutoff: number, limit: number): number {
    return this.db
      .prepare(
        `DELETE FROM envelopes WHERE seq IN
           (SELECT seq FROM envelopes WHERE received_at < ? ORDER BY received_at LIMIT ?)`,
      )
      .run([cutoff, limit]).changes;
  }

  /** A mailbox's counters (zero for a mailbox never written to). */
  usage(mailbox: Mailbox): { envelopes: number; bytes: number } {
    const row = this.db
      .prepare(
        'SELECT envelopes, bytes FROM mailbox_usage WHERE recipient = ? AND recipient_device = ?',
      )
      .get([mailbox.accountId, mailbox.deviceId]);
    return row === undefined ? { envelopes: 0, bytes: 0 } : usageRowSchema.parse(row);
  }
}
