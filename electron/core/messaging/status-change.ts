import type { HistoryMessage } from '../history/history.ts';

// What the send path, receipts and the user's retry report about outgoing
// messages, so that callers (the service's message:status events) learn which
// rows changed without re-reading them.

/** One message row whose status just changed, as committed. */
export interface StatusChange {
  readonly messageId: number;
  readonly conversationId: number;
  readonly status: HistoryMessage['status'];
}

/** Rows of an `UPDATE messages … RETURNING id, conversation_id, status`. */
export type StatusRow = { id: number; conversation_id: number; status: HistoryMessage['status'] };

/** The change a RETURNING row reports. */
export function toStatusChange(row: StatusRow): StatusChange {
  return { messageId: row.id, conversationId: row.conversation_id, status: row.status };
}
