import type { Sql } from '../db/sqlite.ts';
import type { DataRecord } from './format/records.ts';
import { restoreAccountState } from './restore-account.ts';
import { deletedCheck } from '../history/deleted-messages.ts';
import { restoreDeletedRecord } from './deleted-records.ts';
import { conversationWith, restoreContact, restoreConversation } from './restore-contacts.ts';
import { restoreGroup, restoreGroupMessage } from './group-records.ts';
import { requeueGroupMessage } from './requeue-group-messages.ts';
import { markAllGroupsRead } from '../groups/group-read.ts';
import { keepOneCurrentKey, queueSessionStarts, queueTokenShares } from './restore-followups.ts';
import { RestoreMessages } from './restore-messages.ts';

// Writes backup records into a database that is not yet the profile's: a
// fresh one (full restore) or a copy of the live one (merge). The caller swaps
// it in only after everything here committed. The records themselves are
// written by restore-account.ts (account, keys, settings), restore-contacts.ts
// (contacts, conversations), restore-messages.ts (messages, in bulk) and
// group-records.ts (groups and their history), deleted-records.ts (what the
// user deleted).

/**
 * How far key id counters jump on a full restore: keys the old device made
 * after the backup may sit in the relay's directory under the next ids, and
 * the relay keeps the first key it saw for an id.
 */
export const KEY_COUNTER_GAP = 10_000;
const MAX_KEY_ID = 0xffffff;

/** What the restore wrote. */
export interface RestoreCounts {
  readonly messagesInserted: number;
  /** Already present (same sender and uuid, or same sender, device and timestamp). */
  readonly messagesSkipped: number;
  readonly contactsInserted: number;
  /** Queued messages put back in the outbox (1:1 and group). */
  readonly requeued: number;
}

/**
 * Applies records to `db`. `mode`:
 * - `full`: the database is empty (fresh schema): everything is restored,
 *   account and keys included;
 * - `merge`: the database is a copy of a live profile of the same account:
 *   its account, keys and settings win; missing contacts, conversations and
 *   messages (by sender and uuid) are added.
 */
export class RestoreWriter {
  private readonly messages: RestoreMessages;
  private contactsInserted = 0;
  private groupMessagesInserted = 0;
  private groupMessagesSkipped = 0;
  private groupRequeued = 0;
  /** A merge skips what the user deleted on this profile after the backup was made. */
  private readonly deleted: (uuid: string, sender: string) => boolean;

  constructor(
    private readonly db: Sql,
    private readonly mode: 'full' | 'merge',
    private readonly ownAccountId: string,
  ) {
    this.messages = new RestoreMessages(db, ownAccountId);
    this.deleted = deletedCheck(db);
  }

  /** Applies a batch of records (in stream order). Messages are committed in batches of 50,000. */
  apply(records: readonly DataRecord[]): void {
    const others: DataRecord[] = [];
    for (const record of records) {
      if (record.type === 'message') this.messages.add(record);
      else others.push(record);
    }
    if (others.length > 0) this.db.transaction(() => others.forEach((r) => this.applyOne(r)))();
  }

  /** Commits the last messages, builds the indexes, fixes conversation times and queues session starts. */
  finish(now = Date.now()): RestoreCounts {
    this.messages.flush();
    const messages = this.db.transaction(() => {
      const written = this.messages.finish();
      if (this.mode === 'full') {
        // Keys made from now on must not reuse ids the old device may have published after the backup.
        this.db
          .prepare(
            `UPDATE key_counters SET next_id = ((next_id - 1 + ${KEY_COUNTER_GAP}) % ${MAX_KEY_ID}) + 1`,
          )
          .run();
        keepOneCurrentKey(this.db, now);
        queueSessionStarts(this.db, this.ownAccountId, now);
        queueTokenShares(this.db, now);
        // Read markers are local row ids a backup cannot carry: restored group history counts as read.
        markAllGroupsRead(this.db);
      }
      return written;
    })();
    return {
      messagesInserted: messages.inserted + this.groupMessagesInserted,
      messagesSkipped: messages.skipped + this.groupMessagesSkipped,
      contactsInserted: this.contactsInserted,
      requeued: messages.requeued + this.groupRequeued,
    };
  }

  private applyOne(record: DataRecord): void {
    switch (record.type) {
      case 'contact':
        if (restoreContact(this.db, record)) this.contactsInserted++;
        return;
      case 'conversation':
        // A conversation whose contact the backup lacks still gets one (with no name).
        if (!restoreConversation(this.db, record))
          conversationWith(this.db, record.with, record.createdAt);
        return;
      case 'message':
        throw new Error('messages are batched');
      case 'group':
        restoreGroup(this.db, record);
        return;
      case 'groupMessage': {
        const id = this.deleted(record.uuid, record.senderAccount)
          ? undefined
          : restoreGroupMessage(this.db, record, this.ownAccountId);
        if (id === undefined) {
          this.groupMessagesSkipped++;
          return;
        }
        this.groupMessagesInserted++;
        // The group record comes before its messages in a backup: its members are in.
        if (
          record.outgoing &&
          record.status === 'queued' &&
          record.senderAccount === this.ownAccountId
        )
          if (requeueGroupMessage(this.db, this.ownAccountId, { ...record, id }, Date.now()))
            this.groupRequeued++;
        return;
      }
      case 'deletedMessage':
        restoreDeletedRecord(this.db, record);
        return;
      case 'attachment':
      case 'attachmentData':
        throw new Error('attachments are restored by restore-attachments.ts');
      default:
        restoreAccountState(this.db, record, this.mode === 'full');
    }
  }
}
