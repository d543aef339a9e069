import type { Sql } from '../db/sqlite.ts';

// The secondary indexes of `messages` that no insert depends on (the unique
// ones, uuid and (sender, device, sent_at), stay: imports merge through
// them). Maintaining these row by row costs more than the inserts themselves
// (measured: ~2.9x slower for 300k rows), while building them once, sorted,
// after a large import is cheap. Their definitions must stay those of
// migrations 0002 and 0005 (tests/unit/core/deferred-indexes.test.ts compares).
const DEFERRABLE: readonly { readonly name: string; readonly definition: string }[] = [
  {
    name: 'messages_by_conversation',
    definition: 'ON messages(conversation_id, sent_at, id)',
  },
  {
    name: 'messages_failed',
    definition: "ON messages(conversation_id) WHERE status = 'failed'",
  },
];

/** Drops the deferrable message indexes; call inside the import's first transaction. */
export function dropDeferrableIndexes(db: Sql): void {
  for (const index of DEFERRABLE) db.exec(`DROP INDEX IF EXISTS ${index.name}`);
}

/**
 * Creates any deferrable message index that is missing. Called at the end of
 * a large import and at every open, so an import killed midway leaves a
 * profile whose indexes come back on the next start.
 */
export function ensureMessageIndexes(db: Sql): number {
  const present = new Set(
    db
      .prepare("SELECT name FROM sqlite_master WHERE type = 'index' AND tbl_name = 'messages'", {
        pluck: true,
      })
      .all<string>(),
  );
  let created = 0;
  for (const index of DEFERRABLE) {
    if (present.has(index.name)) continue;
    db.exec(`CREATE INDEX ${index.name} ${index.definition}`);
    created++;
  }
  return created;
}
