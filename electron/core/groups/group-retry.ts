import {
  CiphertextMessageType,
  DecryptionErrorMessage,
  SenderKeyMessage,
} from '@signalapp/libsignal-client';
import type { Content } from '../../../shared/protocol/content.ts';
import { fromBase64, toBase64 } from '../../../shared/protocol/encoding.ts';
import type { Sql } from '../db/sqlite.ts';
import { queueGroupContent } from '../messaging/outbox.ts';
import type { Self } from './group-receive.ts';
import { countUpdateRefusal, isCurrentMember, loadGroup } from './group-store.ts';

// Recovery when a member cannot decrypt a group message (a missing chain:
// an SKDM lost or overtaken, or state lost): the member asks its sender
// pairwise (libsignal's DecryptionErrorMessage, plus the failed message's
// cleartext chain position); the sender resends that message pairwise and
// shares its chain with the member again. Bounded per (message, requester),
// like Signal's five.

/** Answers per (message, requester). */
export const MAX_RETRY_ANSWERS = 5;
/** The sent-message log keeps this many entries (the oldest go first). */
export const SENT_LOG_LIMIT = 5000;

/** The retry request for a sender-key message this device could not decrypt; undefined if the header does not parse. */
export function retryRequestFor(
  body: Uint8Array<ArrayBuffer>,
  groupId: Uint8Array,
  senderDevice: number,
  serverTime: number,
  sentAt: number,
): Content | undefined {
  try {
    const header = SenderKeyMessage.deserialize(body);
    const request = DecryptionErrorMessage.forOriginal(
      body,
      CiphertextMessageType.SenderKey,
      serverTime,
      senderDevice,
    );
    return {
      v: 1,
      type: 'group-retry',
      groupId: toBase64(groupId),
      request: toBase64(request.serialize()),
      distributionId: header.distributionId(),
      chainId: header.chainId(),
      iteration: header.iteration(),
      sentAt,
    };
  } catch {
    return undefined;
  }
}

/**
 * A member asked for a message again: if they are a current member and under
 * the bound, the message goes to them pairwise and they get our chain again
 * at the next distribution. Anything else is counted and ignored.
 */
export function answerRetryRequest(
  db: Sql,
  self: Self,
  requester: string,
  content: Extract<Content, { type: 'group-retry' }>,
  now: number,
): void {
  const group = loadGroup(db, content.groupId);
  let valid = false;
  try {
    valid =
      DecryptionErrorMessage.deserialize(fromBase64(content.request)).deviceId() === self.deviceId;
  } catch {
    valid = false;
  }
  if (
    !valid ||
    !group ||
    group.standing !== 'member' ||
    !isCurrentMember(db, group.ref, requester)
  ) {
    countUpdateRefusal(db, 'RETRY_REFUSED');
    return;
  }
  const message = db
    .prepare(
      `SELECT m.id, m.uuid, m.sent_at, m.body FROM group_sent_keys k JOIN group_messages m ON m.id = k.message_id
       WHERE k.distribution_id = ? AND k.chain_id = ? AND k.iteration = ? AND m.group_ref = ? AND m.outgoing = 1`,
    )
    .get<{ id: number; uuid: string; sent_at: number; body: string }>([
      content.distributionId.toLowerCase(),
      content.chainId,
      content.iteration,
      group.ref,
    ]);
  // Whatever happens to the message, the requester gets our chain again at the next distribution.
  db.prepare('DELETE FROM sender_key_shared WHERE group_ref = ? AND account_id = ?').run([
    group.ref,
    requester,
  ]);
  if (!message) return;
  const { count } = db
    .prepare(
      `INSERT INTO group_retries (message_uuid, requester, count) VALUES (?, ?, 1)
       ON CONFLICT (message_uuid, requester) DO UPDATE SET count = count + 1 RETURNING count`,
    )
    .get<{ count: number }>([message.uuid, requester])!;
  if (count > MAX_RETRY_ANSWERS) {
    countUpdateRefusal(db, 'RETRY_REFUSED');
    return;
  }
  queueGroupContent(
    db,
    requester,
    {
      v: 1,
      type: 'group-text',
      groupId: content.groupId,
      id: message.uuid,
      sentAt: message.sent_at,
      body: message.body,
    },
    now,
  );
}

/** Records which chain position carried an outgoing message, keeping the log bounded. */
export function logSentKey(
  db: Sql,
  messageId: number,
  position: { distributionId: string; chainId: number; iteration: number },
  now: number,
): void {
  db.prepare(
    'INSERT OR REPLACE INTO group_sent_keys (message_id, distribution_id, chain_id, iteration, sent_at) VALUES (?, ?, ?, ?, ?)',
  ).run([
    messageId,
    position.distributionId.toLowerCase(),
    position.chainId,
    position.iteration,
    now,
  ]);
  db.prepare(
    `DELETE FROM group_sent_keys WHERE message_id IN
       (SELECT message_id FROM group_sent_keys ORDER BY sent_at DESC, message_id DESC LIMIT -1 OFFSET ?)`,
  ).run([SENT_LOG_LIMIT]);
}
