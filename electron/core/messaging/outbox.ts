import type { AccountId } from '../../../shared/protocol/account-id.ts';
import { randomInt, randomUUID } from 'node:crypto';
import { signalEncrypt } from '@signalapp/libsignal-client';
import {
  type Content,
  encodeContent,
  MAX_BODY_CHARS,
  MAX_CONTENT_BYTES,
} from '../../../shared/protocol/content.ts';
import { SottoError } from '../errors.ts';
import { ensureConversation } from '../contacts/contacts.ts';
import { ownDeliveryToken } from '../contacts/tokens.ts';
import { toBase64 } from '../../../shared/protocol/encoding.ts';
import { ProtocolTransaction } from '../crypto/protocol-transaction.ts';
import { assertCanSend } from '../crypto/trust.ts';
import type { Sql } from '../db/sqlite.ts';
import type { Profile } from '../profile/profile.ts';
import { localAddress, peerAddress } from './addresses.ts';
import { hasSession } from './session.ts';
import { nextSentAt } from './clock.ts';
import { newMessageId } from './message-id.ts';
import { messageInsert } from '../history/message-insert.ts';
import { indexNewMessages } from '../history/search-index.ts';
import { type OutboxScope, PARKED, REACHABLE, RECIPIENT_DEVICE, scopeSql } from './outbox-scope.ts';

export { MAX_SEND_REFUSALS, recordRefusal, TOKEN_GRACE_MS } from './refusals.ts';
export type { OutboxScope } from './outbox-scope.ts';
export { failedMessageIds, markSent, retryMessage } from './message-status.ts';
export {
  bundleRequestsNeeded,
  readyEnvelopes,
  sealReady,
  type OutgoingEnvelope,
  type ReadyEnvelope,
} from './send-queue.ts';

/** A message written by this user, stored and queued. */
export interface QueuedMessage {
  readonly id: number;
  readonly uuid: string;
  readonly conversationId: number;
  readonly sentAt: number;
}

/** Automatic delivery receipts wait this long, at random, before going out (docs/message-format.md#receipts). */
export const RECEIPT_DELAY_MS = { min: 1_000, max: 10_000 } as const;

/** A random delay in RECEIPT_DELAY_MS: immediate receipts let a relay link sealed-sender correspondents (NDSS 2021). */
export function receiptDelayMs(): number {
  return randomInt(RECEIPT_DELAY_MS.min, RECEIPT_DELAY_MS.max + 1);
}

/**
 * Stores a text message and queues it, in one transaction, before any attempt
 * to send (R4). Works offline. Refused while the contact's identity change is
 * unaccepted (IDENTITY_CHANGED), for a blocked contact (CONTACT_BLOCKED), and
 * when the encoded content would exceed MAX_CONTENT_BYTES (MESSAGE_TOO_LONG):
 * the one size rule, checked here at compose time, in bytes.
 */
export function queueText(
  profile: Profile,
  accountId: AccountId,
  body: string,
  now = Date.now(),
): QueuedMessage {
  // Cheap first: a body over the character cap could never encode within the byte cap either.
  if (body.length > MAX_BODY_CHARS) throw new SottoError('MESSAGE_TOO_LONG');
  if (body.length === 0) throw new SottoError('INVALID_INPUT', 'empty message');
  assertCanSend(profile, accountId);
  const uuid = newMessageId(now);
  const token = toBase64(ownDeliveryToken(profile));
  return profile.commit(undefined, (db) => {
    const contact = db
      .prepare('SELECT blocked FROM contacts WHERE account_id = ?')
      .get<{ blocked: number }>([accountId]);
    if (!contact) throw new SottoError('UNKNOWN_CONTACT');
    if (contact.blocked === 1) throw new SottoError('CONTACT_BLOCKED');
    const sentAt = nextSentAt(db, profile.account.accountId, profile.account.deviceId, now);
    const name = profile.account.displayName;
    const content: Content = { v: 1, type: 'text', id: uuid, sentAt, body, name, token };
    const payload = encodeContent(content);
    if (payload.length > MAX_CONTENT_BYTES) throw new SottoError('MESSAGE_TOO_LONG');
    const conversationId = ensureConversation(db, accountId, now);
    const id = messageInsert(db)({
      uuid,
      conversationId,
      outgoing: true,
      senderAccount: profile.account.accountId,
      senderDevice: profile.account.deviceId,
      sentAt,
      receivedAt: now,
      body,
      status: 'queued',
    });
    // A fresh uuid and the device's next sent time cannot collide: a duplicate here is a bug.
    if (id === undefined) throw new SottoError('INTERNAL', 'message id collision');
    enqueue(db, accountId, 'message', payload, id, now, 0);
    indexNewMessages(db);
    db.prepare(
      'UPDATE conversations SET last_message_at = max(coalesce(last_message_at, 0), ?), draft = NULL WHERE id = ?',
    ).run([sentAt, conversationId]);
    return { id, uuid, conversationId, sentAt };
  });
}

/**
 * Queues a delivery receipt for messages received from `accountId`. It is
 * encrypted at once but goes out only after `delayMs` (random 1–10 s by default).
 */
export function queueReceipt(
  db: Sql,
  accountId: string,
  messageUuids: string[],
  sentAt: number,
  now: number,
  delayMs = receiptDelayMs(),
): void {
  const content: Content = { v: 1, type: 'receipt', kind: 'delivered', ids: messageUuids, sentAt };
  enqueue(db, accountId, 'receipt', encodeContent(content), null, now, now + delayMs);
}

/**
 * Queues this account's (new) delivery token for a contact (`token`: base64).
 * Its `sentAt` is after every message already written, which carry the old
 * token: the receiver keeps the token with the newest `sentAt`.
 */
export function queueTokenUpdate(
  db: Sql,
  own: { accountId: string; deviceId: number },
  accountId: string,
  token: string,
  now: number,
): void {
  const content: Content = {
    v: 1,
    type: 'token',
    token,
    sentAt: nextSentAt(db, own.accountId, own.deviceId, now),
  };
  enqueue(db, accountId, 'token', encodeContent(content), null, now, 0);
}

/** Queues a pairwise group content (an update, a sender-key distribution, a retry answer) for one member. */
export function queueGroupContent(db: Sql, recipient: string, content: Content, now: number): void {
  enqueue(db, recipient, 'group', encodeContent(content), null, now, 0);
}

/** Queues a composed message's encoded content (attachments: once every upload completed, R2). */
export function queueMessageContent(
  db: Sql,
  recipient: string,
  payload: Uint8Array<ArrayBuffer>,
  messageId: number,
  now: number,
): void {
  enqueue(db, recipient, 'message', payload, messageId, now, 0);
}

function enqueue(
  db: Sql,
  recipient: string,
  kind: 'message' | 'receipt' | 'token' | 'group',
  payload: Uint8Array<ArrayBuffer>,
  messageId: number | null,
  now: number,
  notBefore: number,
): void {
  db.prepare(
    `INSERT INTO outbox (kind, message_id, client_message_id, recipient, recipient_device, payload, next_attempt_at, created_at)
     VALUES (?, ?, ?, ?, ?, ?, ?, ?)`,
  ).run([kind, messageId, randomUUID(), recipient, RECIPIENT_DEVICE, payload, notBefore, now]);
}

type PendingRow = {
  id: number;
  recipient: string;
  recipient_device: number;
  payload: Uint8Array<ArrayBuffer>;
};

/**
 * Encrypts queued content, oldest first, through one unit of work: session
 * advances and ciphertexts are committed together, so a crash can never leave
 * a ciphertext the session does not know about, or the reverse. Recipients
 * without a session, or with an unaccepted identity change, wait.
 */
export function encryptQueued(
  profile: Profile,
  limit = 500,
  scope: OutboxScope = 'all',
  now = Date.now(),
): Promise<number> {
  return profile.exclusive(() => encryptBatch(profile, limit, scope, now));
}

async function encryptBatch(
  profile: Profile,
  limit: number,
  scope: OutboxScope,
  now: number,
): Promise<number> {
  // Pick rows of recipients that can be written to, so a blocked recipient's
  // backlog never starves everyone queued behind it.
  const pending = `ciphertext IS NULL AND next_attempt_at < ${PARKED} AND ${REACHABLE} ${scopeSql(scope)}`;
  const recipients = profile.db
    .prepare(`SELECT DISTINCT recipient FROM outbox WHERE ${pending}`, { pluck: true })
    .all<string>()
    .filter(
      (r) =>
        profile.state.getIdentity(r)?.trust !== 'changed' &&
        hasSession(profile, r, RECIPIENT_DEVICE),
    );
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
      const update = db.prepare(
        'UPDATE outbox SET ciphertext_type = ?, ciphertext = ?, payload = NULL WHERE id = ?',
      );
      for (const item of sealed) update.run([item.type, item.body, item.id]);
    },
    now,
  );
  return sealed.length;
}

/** Number of outbox entries (queued or encrypted, not yet accepted by a relay). */
export function outboxSize(profile: Profile): number {
  return Number(profile.db.prepare('SELECT count(*) FROM outbox', { pluck: true }).get());
}

/** Outbox entries not parked after repeated refusals (what a send pass reports as waiting). */
export function waitingCount(profile: Profile): number {
  return Number(
    profile.db
      .prepare(`SELECT count(*) FROM outbox WHERE next_attempt_at < ${PARKED}`, { pluck: true })
      .get(),
  );
}

/**
 * When the next entry in `scope` that is waiting only for its time becomes
 * due (a delayed receipt, a token refusal's retry), or undefined if none
 * waits beyond `now`. A one-shot command (`sotto sync`) can wait this long
 * for its receipts instead of leaving them to the next run.
 */
export function nextDueAt(
  profile: Profile,
  scope: OutboxScope = 'all',
  now = Date.now(),
): number | undefined {
  const due = profile.db
    .prepare(
      `SELECT min(next_attempt_at) FROM outbox WHERE next_attempt_at > ? AND next_attempt_at < ${PARKED}
       AND ${REACHABLE} ${scopeSql(scope)}`,
      { pluck: true },
    )
    .get([now]);
  return typeof due === 'number' ? due : undefined;
}

/** Outbox entries (queued or encrypted) for one recipient, in order. */
export function outboxIdsFor(profile: Profile, recipient: string): number[] {
  return profile.db
    .prepare(
      `SELECT id FROM outbox WHERE recipient = ? AND next_attempt_at < ${PARKED} ORDER BY id`,
      { pluck: true },
    )
    .all<number>([recipient]);
}
