import type { Sql } from '../db/sqlite.ts';
import type { DeletedMessageRecord } from './format/deletion-records.ts';

// The `deleted_messages` table (migration 0017, history/deleted-messages.ts)
// in a backup: read for an export, written back by a restore, so a sender's
// resend of a message the user deleted stays deleted on the restored profile
// (docs/backup-format.md#deleted-messages). The statements are this module's
// own: the history module prunes the table, the backup only carries it.

/** Every deleted incoming message's uuid and deletion time, in uuid order. */
export function readDeletedRecords(db: Sql): DeletedMessageRecord[] {
  return db
    .prepare('SELECT uuid, deleted_at FROM deleted_messages ORDER BY uuid')
    .all<{ uuid: string; deleted_at: number }>()
    .map((r) => ({ type: 'deletedMessage', uuid: r.uuid, deletedAt: r.deleted_at }));
}

/** Records one deleted uuid; one the profile already holds (a merge, a repeated record) keeps its time. */
export function restoreDeletedRecord(db: Sql, record: DeletedMessageRecord): void {
  db.prepare(
    'INSERT INTO deleted_messages (uuid, deleted_at) VALUES (?, ?) ON CONFLICT DO NOTHING',
  ).run([record.uuid, record.deletedAt]);
}
