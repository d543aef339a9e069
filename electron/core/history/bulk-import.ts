import { ensureConversation } from '../contacts/contacts.ts';
import { type AccountId, accountIdSchema } from '../../../shared/protocol/account-id.ts';
import { SottoError } from '../errors.ts';
import type { Profile } from '../profile/profile.ts';
import { BULK_BATCH, BulkMessageWriter } from './bulk-writer.ts';
import { ensureMessageIndexes } from './deferred-indexes.ts';
import type { MessageFields } from './message-insert.ts';

/** One message to import (from a backup, or another client's export). */
export type ImportedMessage = MessageFields & {
  /** The contact's account id: the conversation the message belongs to. */
  readonly conversationWith: string;
};

/** What an import did. */
export interface ImportReport {
  readonly inserted: number;
  /** Already present (same sender and uuid, or same sender/device/timestamp): merged, not duplicated. */
  readonly skipped: number;
}

/** Page cache during an import (KiB), so the index pages a batch touches stay decrypted in memory. */
const IMPORT_CACHE_KIB = 256 * 1024;

/**
 * Imports many messages fast: transactions of 50,000 rows, merging by message id
 * (importing the same messages twice adds nothing), with full-text indexing
 * done in one pass at the end; a large import also builds the deferrable
 * indexes once at the end (bulk-writer.ts, deferred-indexes.ts). An import
 * that fails midway keeps its committed batches and builds the indexes again
 * before it rethrows; after a crash the search index and any dropped index
 * come back on the next open.
 */
export function importMessages(
  profile: Profile,
  messages: Iterable<ImportedMessage>,
  onProgress?: (done: number) => void,
): ImportReport {
  const db = profile.db;
  const writer = new BulkMessageWriter(db);
  const conversations = new Map<string, number>();
  let inserted = 0;
  let skipped = 0;
  let batch: ImportedMessage[] = [];
  const flush = () => {
    profile.commit(undefined, () => {
      writer.batch(batch.length);
      for (const m of batch) {
        let conversationId = conversations.get(m.conversationWith);
        if (conversationId === undefined) {
          conversationId = ensureConversation(db, contactId(m.conversationWith), m.receivedAt);
          conversations.set(m.conversationWith, conversationId);
        }
        if (writer.insert(m, conversationId) === undefined) skipped++;
        else inserted++;
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
      if (batch.length >= BULK_BATCH) flush();
    }
    if (batch.length > 0) flush();
    const duplicates = profile.commit(undefined, () => writer.finish());
    inserted -= duplicates;
    skipped += duplicates;
  } catch (error) {
    // The batches committed so far stay (a re-import merges them); the indexes come back
    // now rather than at the next open, so this session keeps the sender rule.
    try {
      profile.commit(undefined, () => ensureMessageIndexes(db));
    } catch {
      // a closed or damaged database: Profile.open builds them (deferred-indexes.ts)
    }
    throw error;
  } finally {
    // Shrinking the cache frees the import's pages at once rather than keeping 256 MiB for the session.
    db.exec(`PRAGMA cache_size = ${cacheSize}`);
  }
  return { inserted, skipped };
}

/** The account id an imported message names, parsed (once per conversation): INVALID_INPUT if it is not one. */
function contactId(text: string): AccountId {
  const parsed = accountIdSchema.safeParse(text);
  if (!parsed.success) throw new SottoError('INVALID_INPUT', 'not an account id');
  return parsed.data;
}
