import type { AccountId } from '../../../shared/protocol/account-id.ts';
import { fromBase64, toBase64 } from '../../../shared/protocol/encoding.ts';
import type { Sql } from '../db/sqlite.ts';
import { SottoError } from '../errors.ts';
import { listGroups, loadGroup, type StoredGroup } from './group-store.ts';

// Reading groups and their history for the CLI and the app: finding a group
// by what a user typed, its messages with their senders' names, and the
// per-member delivery of what we sent ("delivered to N of M").

/** A group message as the history shows it. */
export interface GroupHistoryMessage {
  readonly id: number;
  readonly uuid: string;
  readonly outgoing: boolean;
  readonly senderAccount: AccountId;
  readonly senderName: string | null;
  readonly sentAt: number;
  readonly receivedAt: number;
  readonly body: string;
  readonly status: 'queued' | 'sent' | 'delivered' | 'failed' | 'received';
  /** Outgoing only: members who confirmed delivery, of how many it was for. */
  readonly delivered?: { readonly count: number; readonly of: number };
}

/** One member's delivery of an outgoing group message. */
export interface MemberDelivery {
  readonly accountId: AccountId;
  readonly name: string | null;
  readonly deliveredAt: number | null;
}

/**
 * Resolves what a user typed (a group title, or its base64 id) to one group.
 * UNKNOWN_GROUP if none; INVALID_INPUT if the title is ambiguous.
 */
export function findGroup(db: Sql, titleOrId: string): StoredGroup {
  try {
    if (fromBase64(titleOrId).length === 32) {
      const byId = loadGroup(db, titleOrId);
      if (byId) return byId;
    }
  } catch {
    // not base64: a title
  }
  const wanted = titleOrId.normalize('NFC').trim().toLowerCase();
  const matches = listGroups(db).filter((g) => g.state.title.toLowerCase() === wanted);
  if (matches.length > 1) throw new SottoError('INVALID_INPUT', 'ambiguous group title');
  if (!matches[0]) throw new SottoError('UNKNOWN_GROUP');
  return matches[0];
}

/** Where a page of group history starts (exclusive): keyset paging, as for 1:1 (history.ts). */
export interface GroupPageCursor {
  readonly sentAt: number;
  readonly id: number;
}

// Sender names from the member rows, and "delivered to N of M" from the receipts (primary-key lookups).
const HISTORY_COLUMNS = `m.id, m.uuid, m.outgoing, m.sender_account, gm.display_name, m.sent_at, m.received_at, m.body, m.status,
    (SELECT count(*) FROM group_receipts r WHERE r.message_id = m.id AND r.delivered_at IS NOT NULL) AS delivered,
    (SELECT count(*) FROM group_receipts r WHERE r.message_id = m.id) AS recipients`;
const HISTORY_FROM = `FROM group_messages m
  LEFT JOIN group_members gm ON gm.group_ref = m.group_ref AND gm.account_id = m.sender_account`;

type HistoryRow = GroupMessageRow & { delivered: number; recipients: number };

function historyMessageOf(r: HistoryRow): GroupHistoryMessage {
  return {
    ...groupMessageOf(r),
    ...(r.outgoing === 1 ? { delivered: { count: r.delivered, of: r.recipients } } : {}),
  };
}

/**
 * Up to `limit` messages of a group older than `before` (or the newest),
 * newest first. The index `group_messages_by_group (group_ref, sent_at, id)`
 * serves the order and the cursor: a page costs the same at any depth.
 */
export function groupMessagesPage(
  db: Sql,
  ref: number,
  limit: number,
  before?: GroupPageCursor,
): GroupHistoryMessage[] {
  const cursor = before ? 'AND (m.sent_at, m.id) < (?, ?)' : '';
  const params = before ? [ref, before.sentAt, before.id, limit] : [ref, limit];
  return db
    .prepare(
      `SELECT ${HISTORY_COLUMNS} ${HISTORY_FROM}
       WHERE m.group_ref = ? ${cursor} ORDER BY m.sent_at DESC, m.id DESC LIMIT ?`,
    )
    .all<HistoryRow>(params)
    .map(historyMessageOf);
}

/**
 * Up to `limit` messages of a group newer than `after`, oldest first: paging
 * forward in a window that dropped its newest end (the same index serves it).
 */
export function groupMessagesAfter(
  db: Sql,
  ref: number,
  limit: number,
  after: GroupPageCursor,
): GroupHistoryMessage[] {
  return db
    .prepare(
      `SELECT ${HISTORY_COLUMNS} ${HISTORY_FROM}
       WHERE m.group_ref = ? AND (m.sent_at, m.id) > (?, ?) ORDER BY m.sent_at ASC, m.id ASC LIMIT ?`,
    )
    .all<HistoryRow>([ref, after.sentAt, after.id, limit])
    .map(historyMessageOf);
}

/** A group message with the group it belongs to (a search hit, a notification). */
export interface GroupMessageInGroup extends GroupHistoryMessage {
  readonly groupId: string;
  readonly groupTitle: string;
}

/** One group message by id with its group's id and title (what a `group:message` event carries), or undefined. */
export function groupMessageById(db: Sql, messageId: number): GroupMessageInGroup | undefined {
  const row = db
    .prepare(
      `SELECT g.group_id, g.title, ${HISTORY_COLUMNS} ${HISTORY_FROM}
       JOIN groups g ON g.id = m.group_ref WHERE m.id = ?`,
    )
    .get<HistoryRow & { group_id: Uint8Array<ArrayBuffer>; title: string }>([messageId]);
  return row
    ? { ...historyMessageOf(row), groupId: toBase64(row.group_id), groupTitle: row.title }
    : undefined;
}

/** The columns of a group message row with its sender's name, as history and search select them. */
export type GroupMessageRow = {
  readonly id: number;
  readonly uuid: string;
  readonly outgoing: number;
  readonly sender_account: AccountId;
  readonly display_name: string | null;
  readonly sent_at: number;
  readonly received_at: number;
  readonly body: string;
  readonly status: GroupHistoryMessage['status'];
};

/** A selected group message row as the history shows it. */
export function groupMessageOf(r: GroupMessageRow): GroupHistoryMessage {
  return {
    id: r.id,
    uuid: r.uuid,
    outgoing: r.outgoing === 1,
    senderAccount: r.sender_account,
    senderName: r.display_name,
    sentAt: r.sent_at,
    receivedAt: r.received_at,
    body: r.body,
    status: r.status,
  };
}

/** Per-member delivery of one outgoing group message. */
export function memberDeliveries(db: Sql, messageId: number): MemberDelivery[] {
  return db
    .prepare(
      `SELECT r.account_id, gm.display_name, r.delivered_at FROM group_receipts r
       JOIN group_messages m ON m.id = r.message_id
       LEFT JOIN group_members gm ON gm.group_ref = m.group_ref AND gm.account_id = r.account_id
       WHERE r.message_id = ? ORDER BY gm.display_name, r.account_id`,
    )
    .all<{ account_id: AccountId; display_name: string | null; delivered_at: number | null }>([
      messageId,
    ])
    .map((r) => ({ accountId: r.account_id, name: r.display_name, deliveredAt: r.delivered_at }));
}
