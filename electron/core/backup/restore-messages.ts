import { randomUUID } from 'node:crypto';
import { encodeContent } from '../../../shared/protocol/content.ts';
import type { Sql } from '../db/sqlite.ts';
import { BULK_BATCH, BulkMessageWriter } from '../history/bulk-writer.ts';
import { deletedCheck } from '../history/deleted-messages.ts';
import type { MessageRecord } from './format/records.ts';
import { conversationWith } from './restore-contacts.ts';

// A backup's messages, written through bulk import's path (history/
// bulk-writer.ts): transactions of 50,000 rows, and on a restore at least as
// large as what the database holds (always, for a full restore) the
// secondary indexes and the search index built once at the end. The database
// is not the profile's until the caller swaps it in, so a crash midway loses
// nothing (the temporary file is removed at the next restore).

/** An outbox entry with this next attempt time waits for the user's retry (as outbox.ts parks them). */
const PARKED = Number.MAX_SAFE_INTEGER;

/** What the message records did. */
export interface RestoredMessages {
  readonly inserted: number;
  /** Already present (same sender and uuid, or same sender, device and timestamp), or deleted by the user here. */
  readonly skipped: number;
  /** Queued messages put back in the outbox. */
  readonly requeued: number;
}

/** Writes message records in batches; `finish` inside the restore's last transaction. */
export class RestoreMessages {
  private readonly writer: BulkMessageWriter;
  /** A merge skips what the user deleted on this profile after the backup was made. */
  private readonly deleted: (uuid: string, sender: string) => boolean;
  private readonly conversations = new Map<string, number>();
  private pending: MessageRecord[] = [];
  private inserted = 0;
  private skipped = 0;
  /** Row ids of the messages queued again: a removed duplicate takes its outbox entry with it. */
  private readonly requeued: number[] = [];

  constructor(
    private readonly db: Sql,
    private readonly ownAccountId: string,
  ) {
    this.writer = new BulkMessageWriter(db);
    this.deleted = deletedCheck(db);
  }

  /** Adds a message record; a full batch is committed at once. */
  add(record: MessageRecord): void {
    this.pending.push(record);
    if (this.pending.length >= BULK_BATCH) this.flush();
  }

  /** Commits the pending batch. */
  flush(): void {
    if (this.pending.length === 0) return;
    const batch = this.pending;
    this.pending = [];
    this.db.transaction(() => {
      this.writer.batch(batch.length);
      for (const m of batch) this.insert(m);
    })();
  }

  /** Builds the deferred indexes, conversation times and search index (call inside a transaction, after `flush`). */
  finish(): RestoredMessages {
    const duplicates = this.writer.finish();
    let requeued = this.requeued.length;
    if (duplicates > 0) {
      const still = this.db.prepare('SELECT 1 FROM outbox WHERE message_id = ?');
      requeued = this.requeued.filter((id) => still.get([id]) !== undefined).length;
    }
    return {
      inserted: this.inserted - duplicates,
      skipped: this.skipped + duplicates,
      requeued,
    };
  }

  private insert(m: MessageRecord): void {
    if (this.deleted(m.uuid, m.senderAccount)) {
      this.skipped++;
      return;
    }
    let conversation = this.conversations.get(m.with);
    if (conversation === undefined) {
      conversation = conversationWith(this.db, m.with, m.receivedAt);
      this.conversations.set(m.with, conversation);
    }
    const messageId = this.writer.insert(m, conversation);
    if (messageId === undefined) {
      this.skipped++;
      return;
    }
    this.inserted++;
    // A queued message goes back to the outbox; the peer drops it if the old device had sent it (same uuid).
    if (
      m.outgoing &&
      m.senderAccount === this.ownAccountId &&
      (m.status === 'queued' || m.status === 'failed')
    ) {
      this.requeue(m, messageId, m.status === 'failed');
    }
  }

  /**
   * Outbox rows are not in a backup (they may hold ciphertext of a dropped
   * session): queued messages are queued again, failed ones parked so that
   * "retry" works as before.
   */
  private requeue(m: MessageRecord, messageId: number, parked: boolean): void {
    let payload: Uint8Array<ArrayBuffer>;
    try {
      payload = encodeContent({ v: 1, type: 'text', id: m.uuid, sentAt: m.sentAt, body: m.body });
    } catch {
      // Not sendable as it stands (e.g. an id from another client): shown as failed, not retried.
      this.db.prepare("UPDATE messages SET status = 'failed' WHERE id = ?").run([messageId]);
      return;
    }
    this.db
      .prepare(
        `INSERT INTO outbox (kind, message_id, client_message_id, recipient, recipient_device, payload, next_attempt_at, created_at)
         VALUES ('message', ?, ?, ?, 1, ?, ?, ?)`,
      )
      .run([messageId, randomUUID(), m.with, payload, parked ? PARKED : 0, Date.now()]);
    if (!parked) this.requeued.push(messageId);
  }
}
