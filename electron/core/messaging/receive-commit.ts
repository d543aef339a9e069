import type { AccountId } from '../../../shared/protocol/account-id.ts';
import type { PublicKey } from '@signalapp/libsignal-client';
import type { Content } from '../../../shared/protocol/content.ts';
import { fromBase64 } from '../../../shared/protocol/encoding.ts';
import { ensureConversation } from '../contacts/contacts.ts';
import { contactRoute, updateContactToken } from '../contacts/tokens.ts';
import type { Sql } from '../db/sqlite.ts';
import { type HistoryMessage, messagesByIds } from '../history/history.ts';
import { deletedCheck } from '../history/deleted-messages.ts';
import { messageInsert } from '../history/message-insert.ts';
import { insertIncomingAttachments } from '../attachments/attachment-rows.ts';
import { indexNewMessages } from '../history/search-index.ts';
import { type StatusChange, type StatusRow, toStatusChange } from './status-change.ts';
import type { IncomingEnvelope } from '../sync/relay.ts';
import { queueReceipt } from './outbox.ts';
import { applyMoveNotice, findPendingMoveTo } from '../crypto/identity-move.ts';
import type { ProtocolTransaction } from '../crypto/protocol-transaction.ts';
import { receivedDisplayName } from '../profile/display-name.ts';
import { commitGroupContent, markGroupDelivered } from '../groups/group-commit.ts';
import type { Self } from '../groups/group-receive.ts';
import {
  type Failure,
  type FailureCode,
  type FailureOutcome,
  recordFailures,
} from './receive-failures.ts';

// The commit half of the receive pipeline (receive.ts decrypts): what each
// decoded content does to the database (receive-failures.ts records the
// envelopes that could not be processed, R5).

/**
 * What became of one envelope. Every outcome may be acknowledged to the relay
 * once the batch is committed (R1): `stored`, `receipt`, `control` and
 * `duplicate` are durable, `rejected` is recorded for the user (R5), and a
 * `retry` envelope's raw body was kept in `unprocessed_envelopes` by the same
 * commit, to be retried from there (receive-unprocessed.ts).
 */
export type EnvelopeOutcome =
  | {
      readonly envelopeId: string;
      readonly outcome: 'stored';
      readonly messageUuid: string;
      readonly messageId: number;
      readonly conversationId: number;
      /** The row as committed (sender name included): callers show it without reading it back. */
      readonly message: HistoryMessage;
    }
  /** `delivered`: the outgoing rows this receipt moved to `delivered` (none if already so). */
  | {
      readonly envelopeId: string;
      readonly outcome: 'receipt';
      readonly delivered: readonly StatusChange[];
    }
  /** A control message (a contact's new delivery token): applied, nothing to show. */
  | { readonly envelopeId: string; readonly outcome: 'control' }
  | { readonly envelopeId: string; readonly outcome: 'duplicate' }
  /** A group message, stored in `group_messages` (groups/group-messages.ts). */
  | {
      readonly envelopeId: string;
      readonly outcome: 'group';
      readonly messageUuid: string;
      readonly messageId: number;
      readonly groupRef: number;
    }
  | FailureOutcome;

type StoredOutcome = Extract<EnvelopeOutcome, { outcome: 'stored' }>;

/** A sealed envelope's verified sender and inner Signal message. */
export interface Opened {
  readonly sender: AccountId;
  readonly senderDevice: number;
  readonly senderKey?: PublicKey;
  /** libsignal CiphertextMessageType: 3 PreKey, 2 Whisper, 7 SenderKey. */
  readonly type: number;
  readonly body: Uint8Array<ArrayBuffer>;
  /** A sender-key message's group (USMC.groupId). */
  readonly groupId?: Uint8Array;
}

/** A decrypted, decoded envelope; `ignored`: a group content refused by membership rules (counted, acked). */
export type Decoded = {
  envelope: IncomingEnvelope;
  sender: Opened;
  content: Content;
  ignored?: 'SKDM_NOT_MEMBER';
};
/** One delivery receipt per sender for the messages this batch stored, queued in the same commit. */
export function queueReceipts(
  db: Sql,
  decoded: readonly Decoded[],
  outcomes: readonly EnvelopeOutcome[],
  now: number,
  delayMs?: () => number,
): void {
  // By envelope: another sender's message with the same uuid being stored says nothing about this one.
  const stored = new Set(
    outcomes.flatMap((o) =>
      o.outcome === 'stored' || o.outcome === 'group' ? [o.envelopeId] : [],
    ),
  );
  const bySender = new Map<string, string[]>();
  for (const { envelope, sender, content } of decoded) {
    if ((content.type !== 'text' && content.type !== 'group-text') || !stored.has(envelope.id))
      continue;
    bySender.set(sender.sender, [...(bySender.get(sender.sender) ?? []), content.id]);
  }
  for (const [sender, ids] of bySender) {
    // A sender whose token we do not hold (someone who wrote first) cannot be answered: no receipt piles up.
    const route = contactRoute(db, sender);
    if (!route.token || route.blocked) continue;
    for (let i = 0; i < ids.length; i += 500) {
      queueReceipt(db, sender, ids.slice(i, i + 500), now, now, ...(delayMs ? [delayMs()] : []));
    }
  }
}

/**
 * The one place a decoded `moved` content is handled (docs/message-format.md#identity-reset):
 * checked against the key pinned for the account that moved (crypto/identity-move.ts). A
 * refused notice is counted there and acknowledged like an applied one: retrying cannot help.
 */
function handleMoved(
  db: Sql,
  tx: ProtocolTransaction,
  sender: Opened,
  content: Extract<Content, { type: 'moved' }>,
  now: number,
): FailureCode | undefined {
  if (!sender.senderKey) return 'FORGED_SENDER';
  applyMoveNotice(
    db,
    tx,
    { accountId: sender.sender, identityKey: sender.senderKey.serialize() },
    content,
    now,
  );
  return undefined;
}

/** Writes a batch's outcomes: envelope ids, messages, receipts, tokens, failures. */
export function commitBatch(
  db: Sql,
  tx: ProtocolTransaction,
  self: Self,
  duplicates: readonly IncomingEnvelope[],
  decoded: readonly Decoded[],
  failures: readonly Failure[],
  now: number,
): EnvelopeOutcome[] {
  const markProcessed = db.prepare(
    'INSERT INTO processed_envelopes (envelope_id, processed_at) VALUES (?, ?) ON CONFLICT DO NOTHING',
  );
  const insertMessage = messageInsert(db);
  const wasDeleted = deletedCheck(db);
  const markDelivered = db.prepare(
    `UPDATE messages SET status = 'delivered'
     WHERE uuid = ? AND outgoing = 1 AND status IN ('queued', 'sent')
       AND conversation_id = (SELECT c.id FROM conversations c JOIN contacts k ON k.id = c.contact_id WHERE k.account_id = ?)
     RETURNING id, conversation_id, status`,
  );
  const nameContact = db.prepare(
    'UPDATE contacts SET display_name = ? WHERE account_id = ? AND display_name IS NULL',
  );
  // Stored outcomes get their committed row at the end, in place (outcomes keep envelope order).
  const outcomes: (EnvelopeOutcome | Omit<StoredOutcome, 'message'>)[] = [];
  const lateFailures: Failure[] = [];
  // Per conversation: id, newest sent_at and count stored in this batch (one UPDATE each at the end).
  const touched = new Map<string, { id: number; lastSentAt: number; stored: number }>();

  for (const envelope of duplicates) {
    markProcessed.run([envelope.id, now]);
    outcomes.push({ envelopeId: envelope.id, outcome: 'duplicate' });
  }
  for (const { envelope, sender, content, ignored } of decoded) {
    if (content.type === 'moved') {
      const error = handleMoved(db, tx, sender, content, now);
      if (error) {
        lateFailures.push({ envelope, sender: sender.sender, error, final: true });
        continue;
      }
      markProcessed.run([envelope.id, now]);
      outcomes.push({ envelopeId: envelope.id, outcome: 'control' });
      continue;
    }
    markProcessed.run([envelope.id, now]);
    if (content.type === 'receipt') {
      const delivered = content.ids.flatMap((uuid) =>
        markDelivered.all<StatusRow>([uuid, sender.sender]).map(toStatusChange),
      );
      markGroupDelivered(db, sender.sender, content.ids, now);
      outcomes.push({ envelopeId: envelope.id, outcome: 'receipt', delivered });
      continue;
    }
    const group = commitGroupContent(db, tx, self, { envelope, sender, content, ignored }, now);
    if (group) {
      outcomes.push(group);
      continue;
    }
    if (content.type === 'token') {
      updateContactToken(db, sender.sender, fromBase64(content.token), content.sentAt);
      outcomes.push({ envelopeId: envelope.id, outcome: 'control' });
      continue;
    }
    if (content.type !== 'text') continue; // every other type was handled above
    let conversation = touched.get(sender.sender);
    if (!conversation) {
      // A contact's new account writes into the contact's conversation while its move awaits the user.
      const owner = findPendingMoveTo(db, sender.sender)?.from ?? sender.sender;
      conversation = { id: ensureConversation(db, owner, now), lastSentAt: 0, stored: 0 };
      touched.set(sender.sender, conversation);
    }
    // The user deleted this message: a copy under another envelope id stays deleted.
    if (wasDeleted(content.id, sender.sender)) {
      outcomes.push({ envelopeId: envelope.id, outcome: 'duplicate' });
      continue;
    }
    // A name that breaks the display-name rule (control or bidi-override characters) names no one.
    const name = content.name === undefined ? undefined : receivedDisplayName(content.name);
    if (name !== undefined) nameContact.run([name, sender.sender]);
    if (content.token !== undefined)
      updateContactToken(db, sender.sender, fromBase64(content.token), content.sentAt);
    const messageId = insertMessage({
      uuid: content.id,
      conversationId: conversation.id,
      outgoing: false,
      senderAccount: sender.sender,
      senderDevice: sender.senderDevice,
      sentAt: content.sentAt,
      receivedAt: now,
      body: content.body,
      status: 'received',
    });
    if (messageId === undefined) {
      outcomes.push({ envelopeId: envelope.id, outcome: 'duplicate' });
      continue;
    }
    // Committed with the message (R1); the download is a job (attachments/download-job.ts).
    if (content.attachments) insertIncomingAttachments(db, { messageId }, content.attachments, now);
    conversation.stored++;
    conversation.lastSentAt = Math.max(conversation.lastSentAt, content.sentAt);
    outcomes.push({
      envelopeId: envelope.id,
      outcome: 'stored',
      messageUuid: content.id,
      messageId,
      conversationId: conversation.id,
    });
  }
  const touchConversation = db.prepare(
    'UPDATE conversations SET last_message_at = max(coalesce(last_message_at, 0), ?), unread_count = unread_count + ? WHERE id = ?',
  );
  for (const conversation of touched.values()) {
    if (conversation.stored > 0)
      touchConversation.run([conversation.lastSentAt, conversation.stored, conversation.id]);
  }
  indexNewMessages(db);
  // Read once here, after the batch named its senders, so callers never read a message back.
  const ids = outcomes.flatMap((o) => (o.outcome === 'stored' ? [o.messageId] : []));
  const messages = new Map(messagesByIds(db, ids).map((m) => [m.id, m]));
  const done: EnvelopeOutcome[] = outcomes.map((o) =>
    o.outcome === 'stored' ? { ...o, message: messages.get(o.messageId)! } : o,
  );
  done.push(...recordFailures(db, [...failures, ...lateFailures], now));
  return done;
}
