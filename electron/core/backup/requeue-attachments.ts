import { encodeContent } from '../../../shared/protocol/content.ts';
import { pointerOf, selectAttachments } from '../attachments/attachment-rows.ts';
import type { Sql } from '../db/sqlite.ts';

// A queued or failed outgoing message is queued again on restore with its
// text only (restore-messages.ts), because its attachment records come later
// in the backup. Once the attachment rows are in, each such message either
// gets its pointers back into the outbox payload (every file was uploaded
// before the backup: the blobs are on the relay) or, when an upload had not
// finished (the restore does not resume uploads), is marked failed: never
// sent as its caption alone, which would lose the files without a word.

/**
 * Fixes the outbox rows of restored messages whose attachment rows have ids
 * above `lastIdBefore` (the ones this restore inserted). Returns how many
 * messages were marked failed.
 */
export function repointRequeuedMessages(db: Sql, lastIdBefore: number): number {
  const queued = db
    .prepare(
      `SELECT o.id AS outboxId, m.id AS messageId, m.uuid, m.sent_at AS sentAt, m.body
       FROM outbox o JOIN messages m ON m.id = o.message_id
       WHERE o.kind = 'message' AND o.ciphertext IS NULL
         AND m.id IN (SELECT message_id FROM attachments WHERE id > ? AND message_id IS NOT NULL)`,
    )
    .all<{ outboxId: number; messageId: number; uuid: string; sentAt: number; body: string }>([
      lastIdBefore,
    ]);
  const repoint = db.prepare('UPDATE outbox SET payload = ? WHERE id = ?');
  const drop = db.prepare('DELETE FROM outbox WHERE id = ?');
  const fail = db.prepare("UPDATE messages SET status = 'failed' WHERE id = ?");
  let failed = 0;
  for (const m of queued) {
    const rows = selectAttachments(db, 'message_id = ? ORDER BY position', [m.messageId]);
    if (rows.every((row) => row.state === 'uploaded')) {
      const content = { v: 1, type: 'text', id: m.uuid, sentAt: m.sentAt, body: m.body } as const;
      repoint.run([encodeContent({ ...content, attachments: rows.map(pointerOf) }), m.outboxId]);
    } else {
      drop.run([m.outboxId]);
      fail.run([m.messageId]);
      failed++;
    }
  }
  return failed;
}
