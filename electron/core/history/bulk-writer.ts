import type { Sql } from '../db/sqlite.ts';
import { dropDeferrableIndexes, ensureMessageIndexes } from './deferred-indexes.ts';
import { type MessageFields, messageInsertInto, type MessageInsertInto } from './message-insert.ts';
import { indexNewMessages } from './search-index.ts';

// The write path shared by bulk import (bulk-import.ts) and backup restore
// (backup/restore-db.ts): messages in large transactions the caller runs,
// the secondary indexes and the search index built once at the end.

/**
 * Rows per transaction. Every commit writes (and SQLCipher encrypts) each page
 * the batch dirtied; a bigger batch dirties the same index pages once instead
 * of ten times: 50,000 measured about 1.5x faster than 5,000 at 200k messages.
 */
export const BULK_BATCH = 50_000;
/**
 * An import at least this many times the rows already stored drops the
 * deferrable indexes at its first full batch and builds them once at the end:
 * rebuilding over the existing rows costs less than maintaining them per row.
 */
const DEFER_INDEXES_RATIO = 1;

/**
 * Writes messages batch by batch. Call `batch` inside each batch's
 * transaction, `insert` for its rows, and `finish` inside the last
 * transaction. While the indexes are deferred a row repeating an older
 * row's sender, device and sent time is written and removed at `finish`
 * (the older one stays, as with the index); only a later row carrying the
 * sender and uuid of such a removed row is then skipped where an insert with the index
 * would have kept it.
 */
export class BulkMessageWriter {
  private readonly write: MessageInsertInto;
  private deferring = false;
  /** The highest id before this writer's first row: recomputing a conversation's time looks above it. */
  private readonly storedThrough: number;
  /** Latest sent time of the rows written, by conversation id. */
  private readonly latest = new Map<number, number>();

  constructor(private readonly db: Sql) {
    this.write = messageInsertInto(db);
    this.storedThrough = maxMessageId(db);
  }

  /** Starts a batch of `size` rows (inside its transaction): a first full batch at least as large as the history defers the indexes. */
  batch(size: number): void {
    if (this.deferring || size < BULK_BATCH || size < maxMessageId(this.db) * DEFER_INDEXES_RATIO)
      return;
    dropDeferrableIndexes(this.db);
    this.deferring = true;
  }

  /** Writes one message; its row id, or undefined if it is a duplicate already stored. */
  insert(message: MessageFields, conversationId: number): number | undefined {
    const id = this.write(message, conversationId);
    if (id !== undefined) {
      const at = this.latest.get(conversationId) ?? 0;
      if (message.sentAt > at) this.latest.set(conversationId, message.sentAt);
    }
    return id;
  }

  /**
   * Builds the deferred indexes (dropping sender duplicates), moves each
   * conversation's last message time and indexes the new rows for search.
   * Returns how many rows written by `insert` were removed as duplicates.
   */
  finish(): number {
    // Also when this writer deferred nothing: an earlier import that failed midway may have.
    const { duplicates } = ensureMessageIndexes(this.db);
    const latestOf = this.db.prepare(
      'SELECT max(sent_at) FROM messages WHERE conversation_id = ? AND id > ?',
      { pluck: true },
    );
    const touch = this.db.prepare(
      'UPDATE conversations SET last_message_at = max(coalesce(last_message_at, 0), ?) WHERE id = ?',
    );
    for (const [conversation, sentAt] of this.latest) {
      // Rare: a removed duplicate may have been its conversation's latest row.
      const at =
        duplicates > 0 ? Number(latestOf.get([conversation, this.storedThrough]) ?? 0) : sentAt;
      if (at > 0) touch.run([at, conversation]);
    }
    indexNewMessages(this.db);
    return duplicates;
  }
}

/** The highest message id (exact enough as a row count, and O(1): ids are never reused). */
function maxMessageId(db: Sql): number {
  return Number(db.prepare('SELECT coalesce(max(id), 0) FROM messages', { pluck: true }).get());
}
