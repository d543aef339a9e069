import { fromBase64, toBase64 } from '../../../../shared/protocol/encoding.ts';
import type { Sql } from '../../db/sqlite.ts';
import type { ReadableConversation, ReadableMessage } from './render.ts';

// The group conversations of a readable export: one section per group, its
// messages in the order they were sent, each under its sender's name as the
// group knows it (members who left keep their name).

/** One conversation of an export: its heading, how many messages fall in the range, and its pages. */
export interface ExportSection {
  readonly heading: ReadableConversation;
  count(from: number, to: number): number;
  /** Up to `limit` messages after `cursor` (sent_at, id), in order, with the id for the next cursor. */
  page(
    from: number,
    to: number,
    cursor: { sentAt: number; id: number },
    limit: number,
  ): (ReadableMessage & { readonly id: number })[];
}

/** The groups to export: every group (`'all'`), or the one with base64 id `groupId`. */
export function groupSections(db: Sql, which: string, ownName: string): ExportSection[] {
  const groups = db
    .prepare(
      `SELECT id, group_id, title FROM groups ${which === 'all' ? '' : 'WHERE group_id = ?'}
       ORDER BY title COLLATE NOCASE, id`,
    )
    .all<{ id: number; group_id: Uint8Array<ArrayBuffer>; title: string }>(
      which === 'all' ? [] : [fromBase64(which)],
    );
  const count = db.prepare(
    'SELECT count(*) FROM group_messages WHERE group_ref = ? AND sent_at BETWEEN ? AND ?',
    { pluck: true },
  );
  const page = db.prepare(
    `SELECT m.id, m.uuid, m.outgoing, m.sent_at AS sentAt, m.body, m.status,
       coalesce(gm.display_name, m.sender_account) AS senderName
     FROM group_messages m
     LEFT JOIN group_members gm ON gm.group_ref = m.group_ref AND gm.account_id = m.sender_account
     WHERE m.group_ref = ? AND m.sent_at BETWEEN ? AND ? AND (m.sent_at, m.id) > (?, ?)
     ORDER BY m.sent_at, m.id LIMIT ?`,
  );
  return groups.map((g) => ({
    heading: { accountId: toBase64(g.group_id), name: g.title, group: true },
    count: (from, to) => Number(count.get([g.id, from, to])),
    page: (from, to, cursor, limit) =>
      page
        .all<{
          id: number;
          uuid: string;
          outgoing: number;
          sentAt: number;
          body: string;
          status: string;
          senderName: string;
        }>([g.id, from, to, cursor.sentAt, cursor.id, limit])
        .map((r) => ({
          ...r,
          outgoing: r.outgoing === 1,
          senderName: r.outgoing === 1 ? ownName : r.senderName,
        })),
  }));
}
