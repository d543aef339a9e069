import type { Sql } from '../db/sqlite.ts';
import { notMutedAt } from './mute.ts';

// Per-conversation state beside the messages: drafts, counts and unread totals
// (the conversation list itself is history.ts).

/** Sets a conversation's draft (null clears it). */
export function setDraft(db: Sql, conversationId: number, draft: string | null): void {
  db.prepare('UPDATE conversations SET draft = ? WHERE id = ?').run([draft, conversationId]);
}

/** A conversation's draft and message count; undefined if there is no such conversation. */
export function conversationExtras(
  db: Sql,
  conversationId: number,
): { draft: string | null; messageCount: number } | undefined {
  return db
    .prepare(
      'SELECT draft, (SELECT count(*) FROM messages WHERE conversation_id = ?) AS messageCount FROM conversations WHERE id = ?',
    )
    .get<{ draft: string | null; messageCount: number }>([conversationId, conversationId]);
}

/** Unread messages across the conversations not muted at `now` (the app's badge). */
export function totalUnread(db: Sql, now = Date.now()): number {
  return Number(
    db
      .prepare(
        `SELECT coalesce(sum(c.unread_count), 0) FROM conversations c WHERE ${notMutedAt('c')}`,
        {
          pluck: true,
        },
      )
      .get([now]),
  );
}

/** Outgoing messages a relay kept refusing (status `failed`), across all conversations. */
export function failedMessageCount(db: Sql): number {
  return Number(
    db.prepare("SELECT count(*) FROM messages WHERE status = 'failed'", { pluck: true }).get(),
  );
}
