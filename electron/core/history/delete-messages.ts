import { MAX_DELETE_MESSAGES } from '../../../shared/message-delete.ts';
import { filesOfMessages, stopTransfers } from '../attachments/message-files.ts';
import { removeFiles } from '../attachments/local-files.ts';
import { faultPoint } from '../crypto/key-maintenance.ts';
import type { Sql } from '../db/sqlite.ts';
import { SottoError } from '../errors.ts';
import type { Profile } from '../profile/profile.ts';
import { recordDeleted } from './deleted-messages.ts';

// "Delete for me": messages of one 1:1 conversation or group leave this
// profile with everything that hangs off them — attachment rows, search
// index entries (the FTS delete triggers), outbox and group fan-out entries
// (ON DELETE CASCADE: a message deleted before it was sent is never sent),
// receipts — in one transaction, then their files. Nothing reaches the other
// side: it is not a retraction (docs/architecture.md#deleting-messages).

/** The conversation the messages belong to: a 1:1 conversation id or a group's local ref. */
export type DeleteScope = { readonly conversationId: number } | { readonly groupRef: number };

/** What a delete removed. */
export interface DeletedMessages {
  readonly messageIds: number[];
  /** Stored copies and files in transit removed from the attachments folder. */
  readonly files: number;
}

type Target = {
  readonly id: number;
  readonly uuid: string;
  readonly sender: string;
  readonly outgoing: number;
};

/**
 * Deletes `messageIds` of `scope`. INVALID_INPUT for an empty list, more than
 * MAX_DELETE_MESSAGES, a non-integer or a repeated id; UNKNOWN_MESSAGE (and
 * nothing deleted) if any id is not a message of `scope`: an id of another
 * conversation looks exactly like one that does not exist. Running transfers
 * of the messages' files are cancelled first and waited for.
 */
export async function deleteMessages(
  profile: Profile,
  scope: DeleteScope,
  messageIds: readonly number[],
  now = Date.now(),
): Promise<DeletedMessages> {
  checkIds(messageIds);
  const rows = rowsOf(scope);
  if (targets(profile.db, scope, messageIds).length !== messageIds.length)
    throw new SottoError('UNKNOWN_MESSAGE');
  await stopTransfers(profile, filesOfMessages(profile.db, rows(messageIds)).attachmentIds);
  // Read again after the wait: a job may have committed a stored copy, and
  // another delete may have removed some of these meanwhile.
  const present = targets(profile.db, scope, messageIds);
  const ids = present.map((t) => t.id);
  if (ids.length === 0) return { messageIds: [], files: 0 };
  const files = filesOfMessages(profile.db, rows(ids));
  profile.commit(undefined, (db) => {
    recordDeleted(
      db,
      present.filter((t) => t.outgoing === 0),
      now,
    );
    if ('conversationId' in scope) forgetUnread(db, scope.conversationId, ids);
    const table = 'conversationId' in scope ? 'messages' : 'group_messages';
    db.prepare(`DELETE FROM ${table} WHERE id IN (${placeholders(ids)})`).run(ids);
    if ('conversationId' in scope) lastMessageFromWhatStayed(db, scope.conversationId);
  });
  // A crash here leaves files no row names: the next open's sweep deletes them.
  faultPoint('messages.deleted-before-files');
  removeFiles(profile.paths.dir, files);
  return { messageIds: ids, files: files.local.length + files.temp.length };
}

function checkIds(ids: readonly number[]): void {
  if (ids.length === 0 || ids.length > MAX_DELETE_MESSAGES)
    throw new SottoError('INVALID_INPUT', `1 to ${MAX_DELETE_MESSAGES} messages`);
  if (!ids.every((id) => Number.isSafeInteger(id) && id > 0))
    throw new SottoError('INVALID_INPUT', 'message ids are positive integers');
  if (new Set(ids).size !== ids.length)
    throw new SottoError('INVALID_INPUT', 'repeated message id');
}

const placeholders = (ids: readonly number[]) => ids.map(() => '?').join(',');

function rowsOf(scope: DeleteScope) {
  return (ids: readonly number[]) =>
    'conversationId' in scope ? { messageIds: ids } : { groupMessageIds: ids };
}

const TARGET = 'id, uuid, sender_account AS sender, outgoing';

/** The messages of `scope` among `ids` (an id of another conversation is simply not found). */
function targets(db: Sql, scope: DeleteScope, ids: readonly number[]): Target[] {
  const [sql, owner] =
    'conversationId' in scope
      ? [`SELECT ${TARGET} FROM messages WHERE conversation_id = ?`, scope.conversationId]
      : [`SELECT ${TARGET} FROM group_messages WHERE group_ref = ?`, scope.groupRef];
  return db.prepare(`${sql} AND id IN (${placeholders(ids)})`).all<Target>([owner, ...ids]);
}

/**
 * A 1:1 conversation's place in the list is its stored `last_message_at`:
 * deleting its newest messages moves it back to the newest that stayed, and
 * deleting them all makes it NULL, so it sorts with the conversations that
 * never had a message (last). A group's place, preview and unread count are
 * read from its rows (groups/group-activity.ts) and need nothing.
 */
function lastMessageFromWhatStayed(db: Sql, conversationId: number): void {
  db.prepare(
    `UPDATE conversations SET last_message_at =
       (SELECT max(sent_at) FROM messages WHERE conversation_id = ?) WHERE id = ?`,
  ).run([conversationId, conversationId]);
}

/**
 * A 1:1 conversation counts its unread messages (the newest incoming rows,
 * by arrival): deleted ones among them stop counting. A group's unread count
 * is derived from its read marker and needs nothing.
 */
function forgetUnread(db: Sql, conversationId: number, ids: readonly number[]): void {
  const unread = Number(
    db
      .prepare(
        `SELECT count(*) FROM (
           SELECT id FROM messages WHERE conversation_id = ? AND outgoing = 0 ORDER BY id DESC
           LIMIT (SELECT unread_count FROM conversations WHERE id = ?)
         ) WHERE id IN (${placeholders(ids)})`,
        { pluck: true },
      )
      .get([conversationId, conversationId, ...ids]),
  );
  if (unread > 0)
    db.prepare('UPDATE conversations SET unread_count = max(0, unread_count - ?) WHERE id = ?').run(
      [unread, conversationId],
    );
}
