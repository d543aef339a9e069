import type { ProtocolTransaction } from '../crypto/protocol-transaction.ts';
import { insertIncomingAttachments } from '../attachments/attachment-rows.ts';
import type { Sql } from '../db/sqlite.ts';
import { deletedCheck } from '../history/deleted-messages.ts';
import type { Decoded, EnvelopeOutcome } from '../messaging/receive-commit.ts';
import { receiveGroupUpdate, type Self } from './group-receive.ts';
import { answerRetryRequest } from './group-retry.ts';
import { countUpdateRefusal, groupRef, isCurrentMember } from './group-store.ts';

// The commit half of receiving group contents (the batch's transaction,
// messaging/receive-commit.ts): updates, sender-key distributions (already
// processed into the batch's sender-key unit while decrypting), retry
// requests and group messages.

/** Commits one decoded group content; undefined for a content that is not a group's. */
export function commitGroupContent(
  db: Sql,
  tx: ProtocolTransaction,
  self: Self,
  decoded: Decoded,
  now: number,
): EnvelopeOutcome | undefined {
  const { envelope, sender, content, ignored } = decoded;
  const control = { envelopeId: envelope.id, outcome: 'control' } as const;
  switch (content.type) {
    case 'group-update':
      receiveGroupUpdate(db, tx, self, sender.sender, content, now);
      return control;
    case 'skdm':
      if (ignored) countUpdateRefusal(db, ignored);
      return control;
    case 'group-retry':
      answerRetryRequest(db, self, sender.sender, content, now);
      return control;
    case 'group-text': {
      // Only the row id: loading the whole group per message cost a 1,000-member group ~20 ms each.
      const ref = groupRef(db, content.groupId);
      // Checked while decrypting for sender-key messages; again here for a pairwise resend.
      if (
        ref === undefined ||
        !isCurrentMember(db, ref, sender.sender, sender.senderKey?.serialize())
      ) {
        countUpdateRefusal(db, 'NOT_MEMBER_MESSAGE');
        return control;
      }
      // The user deleted this message: a resend stays deleted.
      if (deletedCheck(db)(content.id, sender.sender))
        return { envelopeId: envelope.id, outcome: 'duplicate' };
      const { changes, lastInsertRowid } = db
        .prepare(
          `INSERT INTO group_messages (uuid, group_ref, outgoing, sender_account, sender_device, sent_at, received_at, body, status)
           VALUES (?, ?, 0, ?, ?, ?, ?, ?, 'received') ON CONFLICT DO NOTHING`,
        )
        .run([
          content.id,
          ref,
          sender.sender,
          sender.senderDevice,
          content.sentAt,
          now,
          content.body,
        ]);
      if (changes === 0) return { envelopeId: envelope.id, outcome: 'duplicate' };
      if (content.attachments)
        insertIncomingAttachments(
          db,
          { groupMessageId: Number(lastInsertRowid) },
          content.attachments,
          now,
        );
      return {
        envelopeId: envelope.id,
        outcome: 'group',
        messageUuid: content.id,
        messageId: Number(lastInsertRowid),
        groupRef: ref,
      };
    }
    default:
      return undefined;
  }
}

/** A member's delivery receipt for our group messages: per-member detail ("delivered to N of M"). */
export function markGroupDelivered(
  db: Sql,
  sender: string,
  uuids: readonly string[],
  now: number,
): void {
  const mark = db.prepare(
    `UPDATE group_receipts SET delivered_at = coalesce(delivered_at, ?)
     WHERE account_id = ? AND message_id = (SELECT id FROM group_messages WHERE uuid = ? AND outgoing = 1)`,
  );
  for (const uuid of uuids) mark.run([now, sender, uuid]);
}

/** base64 group id of a USMC's raw group id bytes. */
export function groupIdOf(bytes: Uint8Array): string {
  return Buffer.from(bytes).toString('base64');
}
