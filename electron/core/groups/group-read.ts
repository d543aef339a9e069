import type { Sql } from '../db/sqlite.ts';
import { notMutedAt } from '../history/mute.ts';

// A group's read marker (migration 0012): the id of the newest group message
// the user has seen. Unread is what arrived above it from others, so the
// count survives a restart, as a 1:1 conversation's `unread_count` does.

/** Incoming messages of the group `ref` that arrived after its read marker. */
export function groupUnread(db: Sql, ref: number): number {
  return (
    db
      .prepare(
        `SELECT count(*) FROM group_messages
         WHERE group_ref = ? AND outgoing = 0 AND id > (SELECT read_through FROM groups WHERE id = ?)`,
        { pluck: true },
      )
      .get<number>([ref, ref]) ?? 0
  );
}

// Moves markers to their group's newest message, never back.
const TO_NEWEST = `UPDATE groups SET read_through = max(read_through,
  coalesce((SELECT max(id) FROM group_messages WHERE group_ref = groups.id), 0))`;

/** Marks every message of the group `ref` stored so far as read (the marker never moves back). */
export function markGroupRead(db: Sql, ref: number): void {
  db.prepare(`${TO_NEWEST} WHERE id = ?`).run([ref]);
}

/** Marks every group read up to its newest message (after a full restore: markers cannot be carried). */
export function markAllGroupsRead(db: Sql): void {
  db.prepare(TO_NEWEST).run();
}

/** Unread incoming group messages over the groups not muted at `now` (the badge adds them to the 1:1 total). */
export function totalGroupUnread(db: Sql, now = Date.now()): number {
  return (
    db
      .prepare(
        `SELECT count(*) FROM groups g JOIN group_messages m
           ON m.group_ref = g.id AND m.outgoing = 0 AND m.id > g.read_through
         WHERE ${notMutedAt('g')}`,
        { pluck: true },
      )
      .get<number>([now]) ?? 0
  );
}
