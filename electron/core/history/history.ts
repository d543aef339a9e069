import type { AccountId } from '../../../shared/protocol/account-id.ts';
import type { Sql } from '../db/sqlite.ts';
import { activeMute } from '../../../shared/mute.ts';

/** One row of the conversation list. */
export interface ConversationSummary {
  readonly id: number;
  readonly accountId: AccountId;
  readonly displayName: string | null;
  readonly lastMessageAt: number | null;
  readonly lastMessagePreview: string | null;
  readonly unreadCount: number;
  readonly identityChanged: boolean;
  readonly hasDraft: boolean;
  /** Outgoing messages that failed and wait for the user to retry. */
  readonly failedCount: number;
  /** When its mute ends (MUTE_FOREVER: until unmuted), or null if it is not muted now. */
  readonly mutedUntil: number | null;
}

/** A message as the history shows it. */
export interface HistoryMessage {
  readonly id: number;
  readonly uuid: string;
  readonly conversationId: number;
  readonly outgoing: boolean;
  readonly senderAccount: AccountId;
  readonly senderName: string | null;
  readonly sentAt: number;
  readonly receivedAt: number;
  readonly body: string;
  readonly status: 'queued' | 'sent' | 'delivered' | 'failed' | 'received';
}

/** Where a page of history starts (exclusive): keyset paging, no OFFSET. */
export interface PageCursor {
  readonly sentAt: number;
  readonly id: number;
}

const PREVIEW_CHARS = 120;

/** Conversations, most recent first, with their last message (mutes as of `now`). */
export function listConversations(db: Sql, now = Date.now()): ConversationSummary[] {
  return db
    .prepare(
      `SELECT c.id, k.account_id AS accountId, k.display_name AS displayName, c.last_message_at AS lastMessageAt,
              (SELECT substr(m.body, 1, ${PREVIEW_CHARS}) FROM messages m
                WHERE m.conversation_id = c.id ORDER BY m.sent_at DESC, m.id DESC LIMIT 1) AS lastMessagePreview,
              c.unread_count AS unreadCount, c.identity_changed AS identityChanged, c.draft IS NOT NULL AS hasDraft,
              (SELECT count(*) FROM messages f WHERE f.conversation_id = c.id AND f.status = 'failed') AS failedCount,
              c.muted_until AS mutedUntil
       FROM conversations c JOIN contacts k ON k.id = c.contact_id
       ORDER BY c.last_message_at IS NULL, c.last_message_at DESC, c.id DESC`,
    )
    .all<{
      id: number;
      accountId: AccountId;
      displayName: string | null;
      lastMessageAt: number | null;
      lastMessagePreview: string | null;
      unreadCount: number;
      identityChanged: number;
      hasDraft: number;
      failedCount: number;
      mutedUntil: number | null;
    }>()
    .map((row) => ({
      ...row,
      mutedUntil: activeMute(row.mutedUntil, now),
      identityChanged: row.identityChanged === 1,
      hasDraft: row.hasDraft === 1,
    }));
}

const MESSAGE_COLUMNS = `
  m.id, m.uuid, m.conversation_id AS conversationId, m.outgoing, m.sender_account AS senderAccount,
  CASE WHEN m.outgoing = 1 THEN (SELECT display_name FROM account) ELSE k.display_name END AS senderName,
  m.sent_at AS sentAt, m.received_at AS receivedAt, m.body, m.status`;

type MessageRow = Omit<HistoryMessage, 'outgoing'> & { outgoing: number };

function toMessage(row: MessageRow): HistoryMessage {
  return { ...row, outgoing: row.outgoing === 1 };
}

/**
 * Up to `limit` messages of a conversation older than `before` (or the newest),
 * newest first, with sender names.
 */
export function messagesPage(
  db: Sql,
  conversationId: number,
  limit = 50,
  before?: PageCursor,
): HistoryMessage[] {
  const cursor = before ? 'AND (m.sent_at, m.id) < (?, ?)' : '';
  const params = before
    ? [conversationId, before.sentAt, before.id, limit]
    : [conversationId, limit];
  return db
    .prepare(
      `SELECT ${MESSAGE_COLUMNS}
       FROM messages m JOIN conversations c ON c.id = m.conversation_id JOIN contacts k ON k.id = c.contact_id
       WHERE m.conversation_id = ? ${cursor}
       ORDER BY m.sent_at DESC, m.id DESC LIMIT ?`,
    )
    .all<MessageRow>(params)
    .map(toMessage);
}

/** Up to `limit` messages of a conversation newer than `after`, oldest first (paging forward after a jump). */
export function messagesAfter(
  db: Sql,
  conversationId: number,
  limit: number,
  after: PageCursor,
): HistoryMessage[] {
  return db
    .prepare(
      `SELECT ${MESSAGE_COLUMNS}
       FROM messages m JOIN conversations c ON c.id = m.conversation_id JOIN contacts k ON k.id = c.contact_id
       WHERE m.conversation_id = ? AND (m.sent_at, m.id) > (?, ?)
       ORDER BY m.sent_at ASC, m.id ASC LIMIT ?`,
    )
    .all<MessageRow>([conversationId, after.sentAt, after.id, limit])
    .map(toMessage);
}

/** One message by id, or undefined. */
export function getMessage(db: Sql, messageId: number): HistoryMessage | undefined {
  const row = db
    .prepare(
      `SELECT ${MESSAGE_COLUMNS}
       FROM messages m JOIN conversations c ON c.id = m.conversation_id JOIN contacts k ON k.id = c.contact_id
       WHERE m.id = ?`,
    )
    .get<MessageRow>([messageId]);
  return row ? toMessage(row) : undefined;
}

/** The messages with these ids, in id order (what a commit just stored, read once inside the core). */
export function messagesByIds(db: Sql, messageIds: readonly number[]): HistoryMessage[] {
  if (messageIds.length === 0) return [];
  return db
    .prepare(
      `SELECT ${MESSAGE_COLUMNS}
       FROM messages m JOIN conversations c ON c.id = m.conversation_id JOIN contacts k ON k.id = c.contact_id
       WHERE m.id IN (SELECT value FROM json_each(?)) ORDER BY m.id`,
    )
    .all<MessageRow>([JSON.stringify(messageIds)])
    .map(toMessage);
}

/**
 * About `limit` messages around one message, oldest first: the half before it,
 * the message, and the rest after it (to open a conversation at a search hit).
 */
export function messagesAround(
  db: Sql,
  messageId: number,
  limit: number,
): HistoryMessage[] | undefined {
  const target = getMessage(db, messageId);
  if (!target) return undefined;
  const cursor = { sentAt: target.sentAt, id: target.id };
  const olderCount = Math.floor((limit - 1) / 2);
  const older =
    olderCount > 0 ? messagesPage(db, target.conversationId, olderCount, cursor).reverse() : [];
  const newer = messagesAfter(db, target.conversationId, limit - 1 - older.length, cursor);
  return [...older, target, ...newer];
}

/**
 * Turns what a user typed into an FTS5 query: every word must match, the last
 * one as a prefix (search as you type). Quotes make FTS5 syntax inert.
 */
export function toFtsQuery(input: string): string | undefined {
  const words = input.normalize('NFC').split(/\s+/u).filter(Boolean).slice(0, 16);
  if (words.length === 0) return undefined;
  return words
    .map((w, i) => `"${w.replaceAll('"', '""')}"${i === words.length - 1 ? '*' : ''}`)
    .join(' ');
}

/**
 * Full-text search across all conversations: the `limit` most recently stored
 * hits. FTS5 walks its index in rowid order and stops at the limit, so the cost
 * does not grow with the number of matches (a sort by sent_at would read every
 * matching row).
 */
export function searchMessages(db: Sql, input: string, limit = 50): HistoryMessage[] {
  const query = toFtsQuery(input);
  if (!query) return [];
  return db
    .prepare(
      `SELECT ${MESSAGE_COLUMNS}
       FROM (SELECT rowid AS id FROM messages_fts WHERE messages_fts MATCH ? ORDER BY rowid DESC LIMIT ?) hit
       JOIN messages m ON m.id = hit.id
       JOIN conversations c ON c.id = m.conversation_id JOIN contacts k ON k.id = c.contact_id
       ORDER BY m.id DESC`,
    )
    .all<MessageRow>([query, limit])
    .map(toMessage);
}

/** Marks a conversation read. */
export function markRead(db: Sql, conversationId: number): void {
  db.prepare('UPDATE conversations SET unread_count = 0 WHERE id = ?').run([conversationId]);
}
