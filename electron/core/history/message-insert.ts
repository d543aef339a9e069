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

/**
 * Prepares the message insert on `db` (once per batch: a million-row import
 * reuses one statement). A message whose uuid, or whose sender, device and
 * sent time, is already stored is a duplicate: nothing is written.
 */
export function messageInsert(db: Sql): MessageInsert {
  const insert = db.prepare(
    `INSERT INTO messages (uuid, conversation_id, outgoing, sender_account, sender_device, sent_at, received_at, body, status)
     VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT DO NOTHING`,
  );
  return (m) => {
    const { changes, lastInsertRowid } = insert.run([
      m.uuid,
      m.conversationId,
      m.outgoing ? 1 : 0,
      m.senderAccount,
      m.senderDevice,
      m.sentAt,
      m.receivedAt,
      m.body,
      m.status,
    ]);
    return changes === 0 ? undefined : Number(lastInsertRowid);
  };
}
