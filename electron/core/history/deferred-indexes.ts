import type { Sql } from '../db/sqlite.ts';

// The secondary indexes of `messages` that a large import builds once at its
// end instead of row by row. Maintaining them per row costs more than the
// inserts themselves (measured at 1M rows: the sender index alone doubles the
// insert time, its keys land all over the tree), while building them once,
// sorted, is cheap. Only (uuid, sender_account) stays unique throughout
// (imports merge by it, migration 0020); the sender dedupe of a deferred
// import happens when its unique index is built again (ensureMessageIndexes).
// Their definitions must stay those of migrations 0002 and 0005 (tests/integration/core/bulk-import.test.ts compares).
const DEFERRABLE: readonly {
  readonly name: string;
  readonly unique: boolean;
  readonly definition: string;
}[] = [
  {
    name: 'messages_by_conversation',
    unique: false,
    definition: 'ON messages(conversation_id, sent_at, id)',
  },
  {
    name: 'messages_by_sender',
    unique: true,
    definition: 'ON messages(sender_account, sender_device, sent_at)',
  },
  {
    name: 'messages_failed',
    unique: false,
    definition: "ON messages(conversation_id) WHERE status = 'failed'",
  },
];

/** What ensureMessageIndexes did. */
export interface EnsuredIndexes {
  /** Indexes that were missing and are built again. */
  readonly created: number;
  /** Rows removed as duplicates (same sender, device and sent time as an older row) before the unique index could be built. */
  readonly duplicates: number;
}

/** Drops the deferrable message indexes; call inside the import's first transaction. */
export function dropDeferrableIndexes(db: Sql): void {
  for (const index of DEFERRABLE) db.exec(`DROP INDEX IF EXISTS ${index.name}`);
}

/**
 * Creates any deferrable message index that is missing. Called at the end of
 * a large import and at every open, so an import killed midway leaves a
 * profile whose indexes come back on the next start. If the unique sender
 * index cannot be built because rows written without it repeat a sender,
 * device and sent time, the later rows go (the earlier stays, as an insert
 * with the index would have kept it) and the index is built.
 */
export function ensureMessageIndexes(db: Sql): EnsuredIndexes {
  const present = new Set(
    db
      .prepare("SELECT name FROM sqlite_master WHERE type = 'index' AND tbl_name = 'messages'", {
        pluck: true,
      })
      .all<string>(),
  );
  let created = 0;
  let duplicates = 0;
  for (const index of DEFERRABLE) {
    if (present.has(index.name)) continue;
    const create = `CREATE ${index.unique ? 'UNIQUE ' : ''}INDEX ${index.name} ${index.definition}`;
    try {
      db.exec(create);
    } catch (error) {
      // Duplicates are rare (a re-import of another client's export): pay for the dedupe only then.
      if (!index.unique || !isUniqueViolation(error)) throw error;
      duplicates += dropSenderDuplicates(db);
      db.exec(create);
    }
    created++;
  }
  return { created, duplicates };
}

/** Deletes every message whose sender, device and sent time an older row (lower id) already has; returns how many. */
function dropSenderDuplicates(db: Sql): number {
  return db
    .prepare(
      `DELETE FROM messages WHERE id IN (
         SELECT id FROM (
           SELECT id, row_number() OVER (PARTITION BY sender_account, sender_device, sent_at ORDER BY id) AS n
           FROM messages)
         WHERE n > 1)`,
    )
    .run().changes;
}

function isUniqueViolation(error: unknown): boolean {
  return (
    error instanceof Error &&
    /SQLITE_CONSTRAINT|UNIQUE constraint failed/.test(
      `${(error as { code?: string }).code ?? ''} ${error.message}`,
    )
  );
}
