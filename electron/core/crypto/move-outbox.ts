import { randomUUID } from 'node:crypto';
import { encodeContent } from '../../../shared/protocol/content.ts';
import type { Sql } from '../db/sqlite.ts';

// When an account moves (ours at an identity reset, or a contact's when the
// user accepts its move), queued content must follow: a ciphertext made for a
// session of the old identity can never be delivered by the new one, so it is
// turned back into its plaintext (re-encoded from the stored message) and
// encrypted again later. Encrypted receipts are dropped: they are a courtesy
// and their sessions are gone.

type OutboxRow = {
  id: number;
  kind: 'message' | 'receipt';
  message_id: number | null;
  recipient: string;
  recipient_device: number;
  payload: Uint8Array<ArrayBuffer> | null;
  next_attempt_at: number;
  created_at: number;
};

/** The plaintext of an outbox row, or undefined for an encrypted receipt (dropped). */
function plaintextOf(
  db: Sql,
  row: OutboxRow,
  senderName: string,
): Uint8Array<ArrayBuffer> | undefined {
  if (row.payload) return row.payload;
  if (row.kind !== 'message' || row.message_id === null) return undefined;
  const message = db
    .prepare('SELECT uuid, sent_at, body FROM messages WHERE id = ?')
    .get<{ uuid: string; sent_at: number; body: string }>([row.message_id]);
  if (!message) return undefined;
  return encodeContent({
    v: 1,
    type: 'text',
    id: message.uuid,
    sentAt: message.sent_at,
    body: message.body,
    name: senderName,
  });
}

/** Queued rows (all, or one recipient's), oldest first. */
function queuedRows(db: Sql, recipient?: string): OutboxRow[] {
  const where = recipient === undefined ? '' : 'WHERE recipient = ?';
  return db
    .prepare(
      `SELECT id, kind, message_id, recipient, recipient_device, payload, next_attempt_at, created_at FROM outbox ${where} ORDER BY id`,
    )
    .all<OutboxRow>(recipient === undefined ? [] : [recipient]);
}

function insertRow(
  db: Sql,
  row: OutboxRow,
  recipient: string,
  payload: Uint8Array<ArrayBuffer>,
): void {
  db.prepare(
    `INSERT INTO outbox (kind, message_id, client_message_id, recipient, recipient_device, payload, next_attempt_at, created_at)
     VALUES (?, ?, ?, ?, ?, ?, ?, ?)`,
  ).run([
    row.kind,
    row.message_id,
    randomUUID(),
    recipient,
    row.recipient_device,
    payload,
    row.next_attempt_at,
    row.created_at,
  ]);
}

/**
 * Our identity was reset: takes every queued row out of the outbox, runs
 * `queueFirst` (the move notices, which must reach each contact before
 * anything the new account sends), then queues the rows again behind them,
 * as plaintext. Call inside a transaction.
 */
export function requeueBehind(db: Sql, senderName: string, queueFirst: () => void): void {
  const rows = queuedRows(db);
  const payloads = rows.map((row) => plaintextOf(db, row, senderName));
  db.prepare('DELETE FROM outbox').run();
  queueFirst();
  rows.forEach((row, i) => {
    const payload = payloads[i];
    if (payload) insertRow(db, row, row.recipient, payload);
  });
}

/** A contact moved to `to`: its queued rows are re-addressed, in order, as plaintext. Call inside a transaction. */
export function readdressQueued(db: Sql, from: string, to: string, senderName: string): void {
  const rows = queuedRows(db, from);
  const payloads = rows.map((row) => plaintextOf(db, row, senderName));
  db.prepare('DELETE FROM outbox WHERE recipient = ?').run([from]);
  rows.forEach((row, i) => {
    const payload = payloads[i];
    if (payload) insertRow(db, row, to, payload);
  });
}
