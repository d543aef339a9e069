import { ensureConversation } from '../contacts/contacts.ts';
import { type AccountId, accountIdSchema } from '../../../shared/protocol/account-id.ts';
import { SottoError } from '../errors.ts';
import type { Profile } from '../profile/profile.ts';
import { dropDeferrableIndexes, ensureMessageIndexes } from './deferred-indexes.ts';
import { messageInsert, type NewMessage } from './message-insert.ts';
import { indexNewMessages } from './search-index.ts';

/** One message to import (from a backup, or another client's export). */
export type ImportedMessage = Omit<NewMessage, 'conversationId'> & {
  /** The contact's account id: the conversation the message belongs to. */
  readonly conversationWith: string;
};

/** What an import did. */
export interface ImportReport {
  readonly inserted: number;
  /** Already present (same uuid or same sender/device/timestamp): merged, not duplicated. */
  readonly skipped: number;
}

/**
 * Rows per transaction. Every commit writes (and SQLCipher encrypts) each page
 * the batch dirtied; with four B-trees per row (rowid, uuid, conversation,
 * sender) a bigger batch dirties the same index pages once instead of ten
 * times: 50,000 measured about 1.5x faster than 5,000 at 200k messages.
 */
const BATCH = 50_000;
/** Page cache during an import (KiB), so the index pages a batch touches stay decrypted in memory. */
const IMPORT_CACHE_KIB = 256 * 1024;
/**
 * An import at least this many times the rows already stored drops the
 * deferrable indexes at its first full batch and builds them once at the end:
 * rebuilding over the existing rows costs less than maintaining them per row.
 */
const DEFER_INDEXES_RATIO = 1;

/**
 * Imports many messages fast: transactions of 50,000 rows, merging by message id
 * (importing the same messages twice adds nothing), with full-text indexing
 * done in one pass at the end; a large import also builds the deferrable
 * indexes once at the end (deferred-indexes.ts). A crash midway leaves
 * committed batches in place; the search index and any dropped index come
 * back on the next open.
 */
export function importMessages(
  profile: Profile,
  messages: Iterable<ImportedMessage>,
  onProgress?: (done: number) => void,
): ImportReport {
  const db = profile.db;
  const insert = messageInsert(db);
  const conversations = new Map<string, { id: number; lastSentAt: number }>();
  let inserted = 0;
  let skipped = 0;
  let batch: ImportedMessage[] = [];
  let deferring = false;
  const flush = () => {
    profile.commit(undefined, () => {
      if (
        !deferring &&
        batch.length >= BATCH &&
        batch.length >= storedRows(db) * DEFER_INDEXES_RATIO
      ) {
        dropDeferrableIndexes(db);
        deferring = true;
      }
      for (const m of batch) {
        let conversation = conversations.get(m.conversationWith);
        if (!conversation) {
          conversation = {
            id: ensureConversation(db, contactId(m.conversationWith), m.receivedAt),
            lastSentAt: 0,
          };
          conversations.set(m.conversationWith, conversation);
        }
        const id = insert({ ...m, conversationId: conversation.id });
        if (id === undefined) skipped++;
        else {
          inserted++;
          conversation.lastSentAt = Math.max(conversation.lastSentAt, m.sentAt);
        }
      }
    });
    batch = [];
    onProgress?.(inserted + skipped);
  };
  const cacheSize = Number(db.pragma('cache_size', { simple: true }));
  db.exec(`PRAGMA cache_size = -${IMPORT_CACHE_KIB}`);
  try {
    for (const message of messages) {
      batch.push(message);
      if (batch.length >= BATCH) flush();
    }
    if (batch.length > 0) flush();
    profile.commit(undefined, () => {
      const touch = db.prepare(
        'UPDATE conversations SET last_message_at = max(coalesce(last_message_at, 0), ?) WHERE id = ?',
      );
      for (const c of conversations.values()) if (c.lastSentAt > 0) touch.run([c.lastSentAt, c.id]);
      if (deferring) ensureMessageIndexes(db);
      indexNewMessages(db);
    });
  } finally {
    // Shrinking the cache frees the import's pages at once rather than keeping 256 MiB for the session.
    db.exec(`PRAGMA cache_size = ${cacheSize}`);
  }
  return { inserted, skipped };
}

/** Rows in `messages` (max(id) is exact enough and O(1): ids are never reused). */
function storedRows(db: Profile['db']): number {
  return Number(db.prepare('SELECT coalesce(max(id), 0) FROM messages', { pluck: true }).get());
}

/** The account id an imported message names, parsed (once per conversation): INVALID_INPUT if it is not one. */
function contactId(text: string): AccountId {
  const parsed = accountIdSchema.safeParse(text);
  if (!parsed.success) throw new SottoError('INVALID_INPUT', 'not an account id');
  return parsed.data;
}
