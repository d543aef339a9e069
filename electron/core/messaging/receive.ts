import {
  CiphertextMessageType,
  ErrorCode,
  LibSignalErrorBase,
  PreKeySignalMessage,
  SignalMessage,
  signalDecrypt,
  signalDecryptPreKey,
} from '@signalapp/libsignal-client';
import { type Content, decodeContent } from '../../../shared/protocol/content.ts';
import { ensureConversation } from '../contacts/contacts.ts';
import { indexNewMessages } from '../history/search-index.ts';
import { queueReceipt } from './outbox.ts';
import { ProtocolTransaction } from '../crypto/protocol-transaction.ts';
import { applyMoveNotice, findPendingMoveTo } from '../crypto/identity-move.ts';
import type { Sql } from '../db/sqlite.ts';
import type { Profile } from '../profile/profile.ts';
import { localAddress, peerAddress } from './addresses.ts';

/** An envelope as a relay delivers it: opaque ciphertext plus routing metadata. */
export interface IncomingEnvelope {
  /** The relay's id for this envelope (dedupe key, R3). */
  readonly id: string;
  readonly sender: string;
  readonly senderDevice: number;
  /** libsignal CiphertextMessageType: 3 PreKey, 2 Whisper. */
  readonly type: number;
  readonly body: Uint8Array;
}

/**
 * What became of one envelope. Every outcome but `retry` may be acknowledged
 * to the relay: `stored` and `duplicate` are durable, `rejected` is recorded
 * for the user (R5).
 */
export type EnvelopeOutcome =
  | { readonly envelopeId: string; readonly outcome: 'stored'; readonly messageUuid: string }
  | { readonly envelopeId: string; readonly outcome: 'receipt' }
  | { readonly envelopeId: string; readonly outcome: 'duplicate' }
  | { readonly envelopeId: string; readonly outcome: 'retry' | 'rejected'; readonly error: FailureCode };

/** Why an envelope could not be processed (stable, content-free). */
export type FailureCode = 'DECRYPT_FAILED' | 'BAD_CONTENT' | 'UNKNOWN_TYPE' | 'FORGED_IDENTITY';

/** An envelope is retried this many times, then rejected and shown to the user (R5). */
export const MAX_ENVELOPE_ATTEMPTS = 3;

type Decoded = { envelope: IncomingEnvelope; content: Content };
type Failure = { envelope: IncomingEnvelope; error: FailureCode };

/**
 * Decrypts a batch of envelopes through one unit of work and commits every
 * protocol-state change, every message and every envelope id in one
 * transaction (R2). Only after this returns may the envelopes be acked (R1).
 * If the commit fails, nothing advanced: the same envelopes decrypt again.
 */
export function processEnvelopes(
  profile: Profile,
  envelopes: readonly IncomingEnvelope[],
  options: { readonly sendReceipts?: boolean; readonly now?: number } = {},
): Promise<EnvelopeOutcome[]> {
  return profile.exclusive(() => processBatch(profile, envelopes, options));
}

async function processBatch(
  profile: Profile,
  envelopes: readonly IncomingEnvelope[],
  options: { readonly sendReceipts?: boolean; readonly now?: number },
): Promise<EnvelopeOutcome[]> {
  const now = options.now ?? Date.now();
  profile.assertUsable();
  const tx = new ProtocolTransaction(profile.state);
  const alreadyProcessed = profile.db.prepare('SELECT 1 FROM processed_envelopes WHERE envelope_id = ?');
  const inBatch = new Set<string>();
  const duplicates: IncomingEnvelope[] = [];
  const decoded: Decoded[] = [];
  const failures: Failure[] = [];

  for (const envelope of envelopes) {
    if (inBatch.has(envelope.id) || alreadyProcessed.get([envelope.id])) {
      duplicates.push(envelope);
      continue;
    }
    inBatch.add(envelope.id);
    const unit = tx.child();
    let plaintext: Uint8Array;
    try {
      plaintext = await decrypt(profile, unit, envelope);
    } catch (error) {
      if (LibSignalErrorBase.is(error, ErrorCode.DuplicatedMessage)) duplicates.push(envelope);
      // A key that does not derive the sender's account id (counted by the identity store): never retried.
      else if (LibSignalErrorBase.is(error, ErrorCode.UntrustedIdentity)) failures.push({ envelope, error: 'FORGED_IDENTITY' });
      else failures.push({ envelope, error: error instanceof UnknownTypeError ? 'UNKNOWN_TYPE' : 'DECRYPT_FAILED' });
      continue;
    }
    try {
      decoded.push({ envelope, content: decodeContent(plaintext) });
      unit.mergeIntoParent();
    } catch {
      failures.push({ envelope, error: 'BAD_CONTENT' });
    }
  }

  return profile.commit(
    tx,
    (db) => {
      const outcomes = commitBatch(db, tx, duplicates, decoded, failures, now);
      if (options.sendReceipts) queueReceipts(db, decoded, outcomes, now);
      return outcomes;
    },
    now,
  );
}

/** One delivery receipt per sender for the messages this batch stored, queued in the same commit. */
function queueReceipts(db: Sql, decoded: readonly Decoded[], outcomes: readonly EnvelopeOutcome[], now: number): void {
  const stored = new Set(outcomes.flatMap((o) => (o.outcome === 'stored' ? [o.messageUuid] : [])));
  const bySender = new Map<string, string[]>();
  for (const { envelope, content } of decoded) {
    if (content.type !== 'text' || !stored.has(content.id)) continue;
    bySender.set(envelope.sender, [...(bySender.get(envelope.sender) ?? []), content.id]);
  }
  for (const [sender, ids] of bySender) {
    for (let i = 0; i < ids.length; i += 500) queueReceipt(db, sender, ids.slice(i, i + 500), now, now);
  }
}

class UnknownTypeError extends Error {}

async function decrypt(profile: Profile, unit: ProtocolTransaction, envelope: IncomingEnvelope): Promise<Uint8Array> {
  const address = peerAddress(envelope.sender, envelope.senderDevice);
  const body = Uint8Array.from(envelope.body);
  switch (envelope.type as CiphertextMessageType) {
    case CiphertextMessageType.PreKey:
      return signalDecryptPreKey(
        PreKeySignalMessage.deserialize(body),
        address,
        localAddress(profile),
        unit.sessionStore,
        unit.identityStore,
        unit.preKeyStore,
        unit.signedPreKeyStore,
        unit.kyberPreKeyStore,
      );
    case CiphertextMessageType.Whisper:
      return signalDecrypt(SignalMessage.deserialize(body), address, localAddress(profile), unit.sessionStore, unit.identityStore);
    default:
      throw new UnknownTypeError();
  }
}

function commitBatch(
  db: Sql,
  tx: ProtocolTransaction,
  duplicates: readonly IncomingEnvelope[],
  decoded: readonly Decoded[],
  failures: readonly Failure[],
  now: number,
): EnvelopeOutcome[] {
  const markProcessed = db.prepare(
    'INSERT INTO processed_envelopes (envelope_id, processed_at) VALUES (?, ?) ON CONFLICT DO NOTHING',
  );
  const insertMessage = db.prepare(
    `INSERT INTO messages (uuid, conversation_id, outgoing, sender_account, sender_device, sent_at, received_at, body, status)
     VALUES (?, ?, 0, ?, ?, ?, ?, ?, 'received') ON CONFLICT DO NOTHING`,
  );
  const markDelivered = db.prepare(
    `UPDATE messages SET status = 'delivered'
     WHERE uuid = ? AND outgoing = 1 AND status IN ('queued', 'sent')
       AND conversation_id = (SELECT c.id FROM conversations c JOIN contacts k ON k.id = c.contact_id WHERE k.account_id = ?)`,
  );
  const nameContact = db.prepare('UPDATE contacts SET display_name = ? WHERE account_id = ? AND display_name IS NULL');
  const outcomes: EnvelopeOutcome[] = [];
  // Per conversation: id, newest sent_at and count stored in this batch (one UPDATE each at the end).
  const touched = new Map<string, { id: number; lastSentAt: number; stored: number }>();

  for (const envelope of duplicates) {
    markProcessed.run([envelope.id, now]);
    outcomes.push({ envelopeId: envelope.id, outcome: 'duplicate' });
  }
  for (const { envelope, content } of decoded) {
    markProcessed.run([envelope.id, now]);
    if (content.type === 'receipt') {
      for (const uuid of content.ids) markDelivered.run([uuid, envelope.sender]);
      outcomes.push({ envelopeId: envelope.id, outcome: 'receipt' });
      continue;
    }
    if (content.type === 'moved') {
      // The sender's key is the one its session (sealed: its certificate) proved; applyMoveNotice checks the rest.
      const key = tx.identity(envelope.sender)?.publicKey ?? new Uint8Array();
      applyMoveNotice(db, tx, { accountId: envelope.sender, identityKey: key }, content, now);
      outcomes.push({ envelopeId: envelope.id, outcome: 'receipt' });
      continue;
    }
    let conversation = touched.get(envelope.sender);
    if (!conversation) {
      // A contact's new account writes into the contact's conversation while its move awaits the user.
      const owner = findPendingMoveTo(db, envelope.sender)?.from ?? envelope.sender;
      conversation = { id: ensureConversation(db, owner, now), lastSentAt: 0, stored: 0 };
      touched.set(envelope.sender, conversation);
    }
    if (content.name !== undefined) nameContact.run([content.name, envelope.sender]);
    const { changes } = insertMessage.run([
      content.id,
      conversation.id,
      envelope.sender,
      envelope.senderDevice,
      content.sentAt,
      now,
      content.body,
    ]);
    if (changes === 0) {
      outcomes.push({ envelopeId: envelope.id, outcome: 'duplicate' });
      continue;
    }
    conversation.stored++;
    conversation.lastSentAt = Math.max(conversation.lastSentAt, content.sentAt);
    outcomes.push({ envelopeId: envelope.id, outcome: 'stored', messageUuid: content.id });
  }
  const touchConversation = db.prepare(
    'UPDATE conversations SET last_message_at = max(coalesce(last_message_at, 0), ?), unread_count = unread_count + ? WHERE id = ?',
  );
  for (const conversation of touched.values()) {
    if (conversation.stored > 0) touchConversation.run([conversation.lastSentAt, conversation.stored, conversation.id]);
  }
  indexNewMessages(db);

  const recordFailure = db.prepare(
    `INSERT INTO failed_envelopes (envelope_id, sender_account, error_code, attempts, first_failed_at, last_failed_at)
     VALUES (?, ?, ?, 1, ?, ?)
     ON CONFLICT (envelope_id) DO UPDATE SET attempts = attempts + 1, error_code = excluded.error_code,
       last_failed_at = excluded.last_failed_at
     RETURNING attempts`,
  );
  for (const { envelope, error } of failures) {
    const attempts = Number((recordFailure.get([envelope.id, envelope.sender, error, now, now]) as { attempts: number }).attempts);
    if (attempts >= MAX_ENVELOPE_ATTEMPTS || error === 'FORGED_IDENTITY') {
      markProcessed.run([envelope.id, now]);
      outcomes.push({ envelopeId: envelope.id, outcome: 'rejected', error });
    } else {
      outcomes.push({ envelopeId: envelope.id, outcome: 'retry', error });
    }
  }
  return outcomes;
}

/** Envelopes that could not be processed and were given up on (R5): shown to the user. */
export function rejectedEnvelopeCount(db: Sql): number {
  return Number(
    db.prepare('SELECT count(*) FROM failed_envelopes WHERE attempts >= ?', { pluck: true }).get([MAX_ENVELOPE_ATTEMPTS]),
  );
}
