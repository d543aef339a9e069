import type { Sql } from '../db/sqlite.ts';

// The uuids of incoming messages the user deleted (migration 0017): the
// receive paths drop a message whose uuid is here like a duplicate, so a
// copy under a new envelope id (a sender's retry, a group resend) does not
// bring a deleted message back. A redelivery of the same envelope id is
// already dropped by `processed_envelopes`.

/** Records the uuids of deleted incoming messages (inside the delete's transaction). */
export function recordDeleted(db: Sql, uuids: readonly string[], now: number): void {
  const insert = db.prepare(
    'INSERT INTO deleted_messages (uuid, deleted_at) VALUES (?, ?) ON CONFLICT DO NOTHING',
  );
  for (const uuid of uuids) insert.run([uuid, now]);
}

/** A check, prepared once per batch: true if the user deleted the message with this uuid. */
export function deletedCheck(db: Sql): (uuid: string) => boolean {
  const find = db.prepare('SELECT 1 FROM deleted_messages WHERE uuid = ?', { pluck: true });
  return (uuid) => find.get([uuid]) !== undefined;
}
