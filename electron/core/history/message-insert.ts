import type { Sql } from '../db/sqlite.ts';
import type { HistoryMessage } from './history.ts';

// The one INSERT into `messages`: the send path, the receive path, bulk import
// and backup restore all write through it, so the merge rule below is the same
// everywhere (docs/storage.md).

/** A message row about to be written. */
export interface NewMessage {
  readonly uuid: string;
  readonly conversationId: number;
  readonly outgoing: boolean;
  readonly senderAccount: string;
  readonly senderDevice: number;
  readonly sentAt: number;
  readonly receivedAt: number;
  readonly body: string;
  readonly status: HistoryMessage['status'];
}

/** Writes one message; returns its row id, or undefined if it is already stored. */
export type MessageInsert = (message: NewMessage) => number | undefined;

/** A message row without its conversation, which the bulk paths pass apart (no object copy per row). */
export type MessageFields = Omit<NewMessage, 'conversationId'>;

/** Writes one message into `conversationId`; returns its row id, or undefined if it is already stored. */
export type MessageInsertInto = (
  message: MessageFields,
  conversationId: number,
) => number | undefined;

/**
 * Prepares the message insert on `db` (once per batch: a million-row import
 * reuses one statement). A message whose sender and uuid (migration 0020: a
 * uuid alone is the sender's choice, another sender may reuse it), or whose
 * sender, device and sent time, is already stored is a duplicate: nothing is
 * written.
 */
export function messageInsert(db: Sql): MessageInsert {
  const into = messageInsertInto(db);
  return (m) => into(m, m.conversationId);
}

/** messageInsert with the conversation passed apart: what the bulk paths call a million times. */
export function messageInsertInto(db: Sql): MessageInsertInto {
  const insert = db.prepare(
    `INSERT INTO messages (uuid, conversation_id, outgoing, sender_account, sender_device, sent_at, received_at, body, status)
     VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT DO NOTHING`,
  );
  // One parameter array for every row: the binding reads it synchronously, and a
  // fresh array per row was a measurable share of a bulk import's garbage.
  const params: (string | number)[] = new Array<string | number>(9);
  return (m, conversationId) => {
    params[0] = m.uuid;
    params[1] = conversationId;
    params[2] = m.outgoing ? 1 : 0;
    params[3] = m.senderAccount;
    params[4] = m.senderDevice;
    params[5] = m.sentAt;
    params[6] = m.receivedAt;
    params[7] = m.body;
    params[8] = m.status;
    const { changes, lastInsertRowid } = insert.run(params);
    return changes === 0 ? undefined : Number(lastInsertRowid);
  };
}
