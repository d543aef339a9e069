import { toBase64 } from '../../../shared/protocol/encoding.ts';
import type { Sql } from '../db/sqlite.ts';
import { toFtsQuery } from '../history/history.ts';
import { type GroupMessageInGroup, type GroupMessageRow, groupMessageOf } from './group-history.ts';

// Full-text search over group messages (index `group_messages_fts`,
// migration 0010; same tokenizer and query rules as 1:1 search), so search
// in the CLI and the app finds what was said in groups too.

/** A group message found by search, with the group it belongs to. */
export type GroupSearchHit = GroupMessageInGroup;

/** The `limit` most recently stored group messages matching `input` (every word; the last as a prefix). */
export function searchGroupMessages(db: Sql, input: string, limit = 50): GroupSearchHit[] {
  const query = toFtsQuery(input);
  if (!query) return [];
  return db
    .prepare(
      `SELECT m.id, m.uuid, m.outgoing, m.sender_account, gm.display_name, m.sent_at, m.received_at,
         m.body, m.status, g.group_id, g.title
       FROM (SELECT rowid AS id FROM group_messages_fts WHERE group_messages_fts MATCH ?
             ORDER BY rowid DESC LIMIT ?) hit
       JOIN group_messages m ON m.id = hit.id
       JOIN groups g ON g.id = m.group_ref
       LEFT JOIN group_members gm ON gm.group_ref = m.group_ref AND gm.account_id = m.sender_account
       ORDER BY m.id DESC`,
    )
    .all<GroupMessageRow & { group_id: Uint8Array<ArrayBuffer>; title: string }>([query, limit])
    .map((r) => ({ ...groupMessageOf(r), groupId: toBase64(r.group_id), groupTitle: r.title }));
}
