import { encodeContent, MAX_CONTENT_BYTES } from '../../../shared/protocol/content.ts';
import type { Sql } from '../db/sqlite.ts';
import { enqueueGroupMessage } from '../groups/group-queue.ts';
import { loadGroupHead } from '../groups/group-store.ts';

// A group message still queued when the backup was made goes out again from
// the restored profile. The backup never holds sender-key chains, so the
// restored device has none: the next send pass makes a new chain and sends
// every member its distribution message pairwise before this message
// (groups/group-queue.ts), as for a device's first message to a group.
// What cannot go out as it stands is restored as failed, never dropped.

/**
 * Puts the restored outgoing group message `messageId` back in the group
 * outbox, or marks it failed when it cannot be sent now (the group was left,
 * a member's identity changed, the content is not encodable). Returns true
 * if it was queued.
 */
export function requeueGroupMessage(
  db: Sql,
  ownAccountId: string,
  message: {
    readonly id: number;
    readonly groupId: string;
    readonly uuid: string;
    readonly sentAt: number;
    readonly body: string;
  },
  now: number,
): boolean {
  const group = loadGroupHead(db, message.groupId);
  let payload: Uint8Array<ArrayBuffer> | undefined;
  try {
    payload = encodeContent({
      v: 1,
      type: 'group-text',
      groupId: message.groupId,
      id: message.uuid,
      sentAt: message.sentAt,
      body: message.body,
    });
  } catch {
    // an id or body another client wrote that this one cannot send: shown as failed
  }
  if (
    !group ||
    group.standing !== 'member' ||
    group.changedMembers.length > 0 ||
    !payload ||
    payload.length > MAX_CONTENT_BYTES
  ) {
    db.prepare("UPDATE group_messages SET status = 'failed' WHERE id = ?").run([message.id]);
    return false;
  }
  enqueueGroupMessage(db, group, ownAccountId, message.id, payload, now);
  return true;
}

/**
 * Requeued group messages whose attachment rows this restore inserted (ids
 * above `lastIdBefore`) were queued as text alone: they are marked failed
 * and leave the outbox, never sent without their files. Returns how many.
 */
export function failRequeuedGroupAttachments(db: Sql, lastIdBefore: number): number {
  const ids = db
    .prepare(
      `SELECT o.message_id FROM group_outbox o WHERE o.ciphertext IS NULL AND o.message_id IN
         (SELECT group_message_id FROM attachments WHERE id > ? AND group_message_id IS NOT NULL)`,
      { pluck: true },
    )
    .all<number>([lastIdBefore]);
  for (const id of ids) {
    db.prepare('DELETE FROM group_outbox WHERE message_id = ?').run([id]);
    db.prepare('DELETE FROM group_receipts WHERE message_id = ?').run([id]);
    db.prepare("UPDATE group_messages SET status = 'failed' WHERE id = ?").run([id]);
  }
  return ids.length;
}
