import { randomUUID } from 'node:crypto';
import { signalEncrypt } from '@signalapp/libsignal-client';
import { type Content, encodeContent } from '../../../shared/protocol/content.ts';
import { SottoError } from '../errors.ts';
import { ensureConversation } from '../contacts/contacts.ts';
import { ProtocolTransaction } from '../crypto/protocol-transaction.ts';
import { assertCanSend } from '../crypto/trust.ts';
import type { Sql } from '../db/sqlite.ts';
import type { Profile } from '../profile/profile.ts';
import { localAddress, peerAddress } from './addresses.ts';
import { hasSession } from './session.ts';
import { nextSentAt } from './clock.ts';
import { newMessageId } from './message-id.ts';
import { indexNewMessages } from '../history/search-index.ts';

/** A message written by this user, stored and queued. */
export interface QueuedMessage {
  readonly id: number;
  readonly uuid: string;
  readonly conversationId: number;
  readonly sentAt: number;
}

/** An encrypted envelope ready to hand to a relay (resubmitting it is harmless: R4). */
export interface OutgoingEnvelope {
  readonly outboxId: number;
  readonly clientMessageId: string;
  readonly recipient: string;
  readonly recipientDevice: number;
  /** libsignal CiphertextMessageType: 3 PreKey (session start), 2 Whisper. */
  readonly type: number;
  readonly body: Uint8Array;
}

const RECIPIENT_DEVICE = 1;

/**
 * Stores a text message and queues it, in one transaction, before any attempt
 * to send (R4). Works offline. Refused while the contact's identity change is
 * unaccepted.
 */
export function queueText(profile: Profile, accountId: string, body: string, now = Date.now()): QueuedMessage {
  assertCanSend(profile, accountId);
  const uuid = newMessageId(now);
  return profile.commit(undefined, (db) => {
    if (!db.prepare('SELECT 1 FROM contacts WHERE account_id = ?').get([accountId])) {
      throw new SottoError('UNKNOWN_CONTACT');
    }
    const conversationId = ensureConversation(db, accountId, now);
    const sentAt = nextSentAt(db, profile.account.accountId, profile.account.deviceId, now);
    const { lastInsertRowid: id } = db
      .prepare(
        `INSERT INTO messages (uuid, conversation_id, outgoing, sender_account, sender_device, sent_at, received_at, body, status)
         VALUES (?, ?, 1, ?, ?, ?, ?, ?, 'queued')`,
      )
      .run([uuid, conversationId, profile.account.accountId, profile.account.deviceId, sentAt, now, body]);
    enqueue(db, accountId, { v: 1, type: 'text', id: uuid, sentAt, body, name: profile.account.displayName }, id, now);
    indexNewMessages(db);
    db.prepare('UPDATE conversations SET last_message_at = max(coalesce(last_message_at, 0), ?), draft = NULL WHERE id = ?').run([
      sentAt,
      conversationId,
    ]);
    return { id, uuid, conversationId, sentAt };
  });
}

/** Queues a delivery receipt for messages received from `accountId`. */
export function queueReceipt(db: Sql, accountId: string, messageUuids: string[], sentAt: number, now: number): void {
  enqueue(db, accountId, { v: 1, type: 'receipt', kind: 'delivered', ids: messageUuids, sentAt }, null, now);
}

function enqueue(db: Sql, recipient: string, content: Content, messageId: number | null, now: number): void {
  db.prepare(
    `INSERT INTO outbox (kind, message_id, client_message_id, recipient, recipient_device, payload, created_at)
     VALUES (?, ?, ?, ?, ?, ?, ?)`,
  ).run([
    content.type === 'text' ? 'message' : 'receipt',
    messageId,
    randomUUID(),
    recipient,
    RECIPIENT_DEVICE,
    encodeContent(content),
    now,
  ]);
}

type PendingRow = { id: number; recipient: string; recipient_device: number; payload: Uint8Array<ArrayBuffer> };

/** Which outbox entries an operation covers: everything, or only delivery receipts. */
export type OutboxScope = 'all' | 'receipts';

function scopeSql(scope: OutboxScope): string {
  return scope === 'receipts' ? "AND kind = 'receipt'" : '';
}

/** A time far enough ahead that a parked entry is never picked up until retried. */
const PARKED = Number.MAX_SAFE_INTEGER;

/** Recipients with queued content but no session yet: the caller fetches their keys. */
export function recipientsWithoutSession(profile: Profile, scope: OutboxScope = 'all'): string[] {
  const recipients = profile.db
    .prepare(
      `SELECT DISTINCT recipient FROM outbox WHERE ciphertext IS NULL AND next_attempt_at < ${PARKED} ${scopeSql(scope)}`,
      { pluck: true },
    )
    .all<string>();
  return recipients.filter((r) => !hasSession(profile, r, RECIPIENT_DEVICE));
}

/**
 * Encrypts queued content, oldest first, through one unit of work: session
 * advances and ciphertexts are committed together, so a crash can never leave
 * a ciphertext the session does not know about, or the reverse. Recipients
 * without a session, or with an unaccepted identity change, wait.
 */
export function encryptQueued(profile: Profile, limit = 500, scope: OutboxScope = 'all', now = Date.now()): Promise<number> {
  return profile.exclusive(() => encryptBatch(profile, limit, scope, now));
}

async function encryptBatch(profile: Profile, limit: number, scope: OutboxScope, now: number): Promise<number> {
  // Pick rows of recipients that can be written to, so a blocked recipient's
  // backlog never starves everyone queued behind it.
  const pending = `ciphertext IS NULL AND next_attempt_at < ${PARKED} ${scopeSql(scope)}`;
  const recipients = profile.db
    .prepare(`SELECT DISTINCT recipient FROM outbox WHERE ${pending}`, { pluck: true })
    .all<string>()
    .filter((r) => profile.state.getIdentity(r)?.trust !== 'changed' && hasSession(profile, r, RECIPIENT_DEVICE));
  const rowsOf = profile.db.prepare(
    `SELECT id, recipient, recipient_device, payload FROM outbox WHERE recipient = ? AND ${pending} ORDER BY id LIMIT ?`,
  );
  const rows: PendingRow[] = [];
  for (const recipient of recipients) {
    if (rows.length >= limit) break;
    rows.push(...rowsOf.all<PendingRow>([recipient, limit - rows.length]));
  }
  const tx = new ProtocolTransaction(profile.state);
  const sealed: { id: number; type: number; body: Uint8Array<ArrayBuffer> }[] = [];
  const blocked = new Set<string>();
  for (const row of rows) {
    if (blocked.has(row.recipient)) continue; // keep per-recipient order
    const unit = tx.child();
    try {
      const message = await signalEncrypt(
        row.payload,
        peerAddress(row.recipient, row.recipient_device),
        localAddress(profile),
        unit.sessionStore,
        unit.identityStore,
      );
      unit.mergeIntoParent();
      sealed.push({ id: row.id, type: message.type(), body: message.serialize() });
    } catch {
      blocked.add(row.recipient);
    }
  }
  if (sealed.length === 0) return 0;
  profile.commit(
    tx,
    (db) => {
      const update = db.prepare('UPDATE outbox SET ciphertext_type = ?, ciphertext = ?, payload = NULL WHERE id = ?');
      for (const item of sealed) update.run([item.type, item.body, item.id]);
    },
    now,
  );
  return sealed.length;
}

/** Encrypted envelopes not yet acknowledged by a relay, in send order. */
export function readyEnvelopes(
  profile: Profile,
  limit = 500,
  scope: OutboxScope = 'all',
  excludeRecipients: readonly string[] = [],
): OutgoingEnvelope[] {
  // Excluded in SQL, so recipients held back this pass cannot fill the page.
  const excluded = excludeRecipients.length > 0 ? `AND recipient NOT IN (${excludeRecipients.map(() => '?').join(', ')})` : '';
  return profile.db
    .prepare(
      `SELECT id, client_message_id, recipient, recipient_device, ciphertext_type, ciphertext
       FROM outbox WHERE ciphertext IS NOT NULL AND next_attempt_at <= ? ${scopeSql(scope)} ${excluded} ORDER BY id LIMIT ?`,
    )
    .all<{
      id: number;
      client_message_id: string;
      recipient: string;
      recipient_device: number;
      ciphertext_type: number;
      ciphertext: Uint8Array<ArrayBuffer>;
    }>([Date.now(), ...excludeRecipients, limit])
    .map((row) => ({
      outboxId: row.id,
      clientMessageId: row.client_message_id,
      recipient: row.recipient,
      recipientDevice: row.recipient_device,
      type: row.ciphertext_type,
      body: row.ciphertext,
    }));
}

/** A relay stored these envelopes durably: drop them from the outbox, mark messages sent. */
export function markSent(profile: Profile, outboxIds: readonly number[]): void {
  profile.commit(undefined, (db) => {
    const status = db.prepare(
      "UPDATE messages SET status = 'sent' WHERE status = 'queued' AND id = (SELECT message_id FROM outbox WHERE id = ?)",
    );
    const remove = db.prepare('DELETE FROM outbox WHERE id = ?');
    for (const id of outboxIds) {
      status.run([id]);
      remove.run([id]);
    }
  });
}

/** Number of outbox entries (queued or encrypted, not yet accepted by a relay). */
export function outboxSize(profile: Profile): number {
  return Number(profile.db.prepare('SELECT count(*) FROM outbox', { pluck: true }).get());
}

/** Refusals (RELAY_REFUSED) an entry survives before its message is marked failed. */
export const MAX_SEND_REFUSALS = 5;

/**
 * Counts a relay's refusal of these outbox entries. After MAX_SEND_REFUSALS
 * an entry is parked and its message marked `failed` until the user retries.
 * Returns the ids of messages that just failed.
 */
export function recordRefusal(profile: Profile, outboxIds: readonly number[]): number[] {
  return profile.commit(undefined, (db) => {
    const bump = db.prepare('UPDATE outbox SET attempts = attempts + 1 WHERE id = ? RETURNING attempts, message_id');
    const park = db.prepare(`UPDATE outbox SET next_attempt_at = ${PARKED} WHERE id = ?`);
    const fail = db.prepare("UPDATE messages SET status = 'failed' WHERE id = ?");
    const failed: number[] = [];
    for (const id of outboxIds) {
      const row = bump.get<{ attempts: number; message_id: number | null }>([id]);
      if (!row || row.attempts < MAX_SEND_REFUSALS) continue;
      park.run([id]);
      if (row.message_id !== null) {
        fail.run([row.message_id]);
        failed.push(row.message_id);
      }
    }
    return failed;
  });
}

/** Outbox entries (queued or encrypted) for one recipient, in order. */
export function outboxIdsFor(profile: Profile, recipient: string): number[] {
  return profile.db
    .prepare(`SELECT id FROM outbox WHERE recipient = ? AND next_attempt_at < ${PARKED} ORDER BY id`, { pluck: true })
    .all<number>([recipient]);
}

/** The user asked to retry a failed message: queue it again. */
export function retryMessage(profile: Profile, messageId: number): void {
  profile.commit(undefined, (db) => {
    const { changes } = db.prepare('UPDATE outbox SET attempts = 0, next_attempt_at = 0 WHERE message_id = ?').run([messageId]);
    if (changes === 0) throw new SottoError('INVALID_INPUT', 'message is not in the outbox');
    db.prepare("UPDATE messages SET status = 'queued' WHERE id = ? AND status = 'failed'").run([messageId]);
  });
}
