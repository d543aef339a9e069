import type { Sql } from '../db/sqlite.ts';

/**
 * Adds every message above the index watermark to the full-text index and
 * moves the watermark. Call it inside the transaction that inserted them; a
 * path that forgot is caught up by the next call (and at every open).
 */
export function indexNewMessages(db: Sql): number {
  const through = Number(
    db.prepare('SELECT indexed_through FROM search_state', { pluck: true }).get(),
  );
  const { changes } = db
    .prepare(
      'INSERT INTO messages_fts(rowid, body) SELECT id, body FROM messages WHERE id > ? ORDER BY id',
    )
    .run([through]);
  if (changes > 0) {
    db.prepare('UPDATE search_state SET indexed_through = (SELECT max(id) FROM messages)').run();
  }
  return changes;
}
