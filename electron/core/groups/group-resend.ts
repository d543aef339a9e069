import {
  encodeContent,
  MAX_BODY_CHARS,
  MAX_CONTENT_BYTES,
} from '../../../shared/protocol/content.ts';
import { toBase64 } from '../../../shared/protocol/encoding.ts';
import { requeueUploadedFiles } from '../attachments/fanout-retry.ts';
import { SottoError } from '../errors.ts';
import type { Sql } from '../db/sqlite.ts';
import type { Profile } from '../profile/profile.ts';
import { enqueueGroupMessage, sendableGroup } from './group-queue.ts';

// Retry of a failed outgoing group message (a relay kept refusing it, or a
// restore could not queue it): the same message (same id, so a member who
// already has it drops the copy) queued again for the group's current
// members, encrypted with this device's current chain on the next pass.
// One with files whose uploads completed goes through the upload job first
// (attachments/fanout-retry.ts: no second upload of a blob the relay holds).

/** Our failed messages in the group `ref`, oldest first (what `sotto retry GROUP` queues again). */
export function failedGroupMessageIds(db: Sql, ref: number): number[] {
  return db
    .prepare(
      `SELECT id FROM group_messages WHERE group_ref = ? AND outgoing = 1 AND status = 'failed'
       ORDER BY sent_at, id`,
      { pluck: true },
    )
    .all<number>([ref]);
}

/**
 * Queues the failed group message `messageId` again and returns its group's
 * row id. INVALID_INPUT if it is not one of our failed group messages or it
 * carries files that did not all upload (their ciphertext is not kept); the group's own refusals
 * (NOT_GROUP_MEMBER, IDENTITY_CHANGED) as for a new message.
 */
export function retryGroupMessage(profile: Profile, messageId: number, now = Date.now()): number {
  return profile.commit(undefined, (db) => {
    const row = db
      .prepare(
        `SELECT m.uuid, m.sent_at, m.body, m.group_ref, g.group_id FROM group_messages m
         JOIN groups g ON g.id = m.group_ref
         WHERE m.id = ? AND m.outgoing = 1 AND m.status = 'failed' AND m.sender_account = ?`,
      )
      .get<{
        uuid: string;
        sent_at: number;
        body: string;
        group_ref: number;
        group_id: Uint8Array<ArrayBuffer>;
      }>([messageId, profile.account.accountId]);
    if (!row) throw new SottoError('INVALID_INPUT', 'not a failed group message of ours');
    // A stored body over the wire limit (a damaged or hostile restore) is refused, not a schema crash.
    if (row.body.length > MAX_BODY_CHARS) throw new SottoError('MESSAGE_TOO_LONG');
    const groupId = toBase64(row.group_id);
    const group = sendableGroup(db, groupId);
    // A failed send may leave its outbox row and receipts: start both over.
    db.prepare('DELETE FROM group_outbox WHERE message_id = ?').run([messageId]);
    db.prepare('DELETE FROM group_receipts WHERE message_id = ?').run([messageId]);
    db.prepare("UPDATE group_messages SET status = 'queued' WHERE id = ?").run([messageId]);
    const files = db
      .prepare('SELECT count(*) FROM attachments WHERE group_message_id = ?', { pluck: true })
      .get<number>([messageId]);
    // With files, the upload job fans it out once the relay confirmed its blobs.
    if ((files ?? 0) > 0) {
      requeueUploadedFiles(db, messageId);
      return row.group_ref;
    }
    const payload = encodeContent({
      v: 1,
      type: 'group-text',
      groupId,
      id: row.uuid,
      sentAt: row.sent_at,
      body: row.body,
    });
    if (payload.length > MAX_CONTENT_BYTES) throw new SottoError('MESSAGE_TOO_LONG');
    enqueueGroupMessage(db, group, profile.account.accountId, messageId, payload, now);
    return row.group_ref;
  });
}

/** The status of group message `messageId` ('queued', 'sent', 'delivered', 'failed'...), undefined if there is none. */
export function groupMessageStatus(db: Sql, messageId: number): string | undefined {
  return db
    .prepare('SELECT status FROM group_messages WHERE id = ?', { pluck: true })
    .get<string>([messageId]);
}
