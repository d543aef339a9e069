import type { Sql } from '../db/sqlite.ts';
import { mutedUntil } from '../history/mute.ts';
import { groupUnread } from './group-read.ts';

// Read-only: what the app's conversation list and members panel show beside a
// group's state (its last message, how many messages are unread, each
// member's 1:1 conversation). Nothing here writes.

const PREVIEW_CHARS = 120;

/** A group's activity for the conversation list. */
export interface GroupActivity {
  readonly lastMessageAt: number | null;
  readonly lastMessagePreview: string | null;
  /** Incoming messages above the group's read marker (group-read.ts). */
  readonly unreadCount: number;
  /** When its mute ends, or null if it is not muted now (history/mute.ts). */
  readonly mutedUntil: number | null;
}

/** The last message, the unread count and the mute of the group `ref` (as of `now`). */
export function groupActivity(db: Sql, ref: number, now = Date.now()): GroupActivity {
  const last = db
    .prepare(
      `SELECT sent_at, substr(body, 1, ${PREVIEW_CHARS}) AS preview FROM group_messages
       WHERE group_ref = ? ORDER BY sent_at DESC, id DESC LIMIT 1`,
    )
    .get<{ sent_at: number; preview: string }>([ref]);
  return {
    lastMessageAt: last?.sent_at ?? null,
    lastMessagePreview: last?.preview ?? null,
    unreadCount: groupUnread(db, ref),
    mutedUntil: mutedUntil(db, { kind: 'group', ref }, now),
  };
}

/** The 1:1 conversation of each account that has one (a member added by another admin may not). */
export function conversationsOf(db: Sql, accountIds: readonly string[]): Map<string, number> {
  const query = db.prepare(
    'SELECT c.id FROM conversations c JOIN contacts k ON k.id = c.contact_id WHERE k.account_id = ?',
    { pluck: true },
  );
  const found = new Map<string, number>();
  for (const accountId of accountIds) {
    const id = query.get<number>([accountId]);
    if (id !== undefined) found.set(accountId, id);
  }
  return found;
}
