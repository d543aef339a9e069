import type { Sql } from '../db/sqlite.ts';
import type { DeletedMessageRecord } from './format/deletion-records.ts';

// The `deleted_messages` table (migrations 0017, 0020; history/deleted-messages.ts)
// in a backup: read for an export, written back by a restore, so a sender's
// resend of a message the user deleted stays deleted on the restored profile
// (docs/backup-format.md#deleted-messages). The statements are this module's
// own: the history module prunes the table, the backup only carries it.

/** Every deleted incoming message's uuid, sender (null: any) and deletion time, in uuid order. */
export function readDeletedRecords(db: Sql): DeletedMessageRecord[] {
  return db
    .prepare(
      `SELECT uuid, sender_account, deleted_at FROM deleted_messages
       ORDER BY uuid, ifnull(sender_account, '')`,
    )
    .all<{ uuid: string; sender_account: string | null; deleted_at: number }>()
    .map((r) => ({
      type: 'deletedMessage',
      uuid: r.uuid,
      senderAccount: r.sender_account as DeletedMessageRecord['senderAccount'],
      deletedAt: r.deleted_at,
    }));
}

/**
 * Records one deleted message; one the profile already holds (a merge, a
 * repeated record) keeps its time. A time after `now` (only a crafted file
 * has one) is recorded as `now`, so the entry still ages out (DELETED_KEEP_MS).
 */
export function restoreDeletedRecord(
  db: Sql,
  record: DeletedMessageRecord,
  now = Date.now(),
): void {
  db.prepare(
    `INSERT INTO deleted_messages (uuid, sender_account, deleted_at) VALUES (?, ?, ?)
     ON CONFLICT DO NOTHING`,
  ).run([record.uuid, record.senderAccount, Math.min(record.deletedAt, now)]);
}
