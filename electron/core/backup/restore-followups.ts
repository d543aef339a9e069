import type { Sql } from '../db/sqlite.ts';
import { queueReceipt, queueTokenUpdate } from '../messaging/outbox.ts';

// What a full restore does once every record is in: the key lifecycle made
// consistent, and the outbox entries that make the restored profile reachable
// again (the outbox itself is not in a backup).

/**
 * The outbox is not in a backup, so token updates the old device had queued
 * (a block rotates the token and re-shares it) are gone: every unblocked
 * contact we can reach is sent the restored token once more. A contact that
 * already had it gains nothing and loses nothing (its sentAt is newer).
 */
export function queueTokenShares(db: Sql, now: number): void {
  const hex = db
    .prepare("SELECT value FROM settings WHERE key = 'delivery.token'", { pluck: true })
    .get();
  const own = db
    .prepare('SELECT account_id AS accountId, device_id AS deviceId FROM account')
    .get<{ accountId: string; deviceId: number }>();
  if (typeof hex !== 'string' || !own) return;
  const token = Buffer.from(hex, 'hex').toString('base64');
  const contacts = db
    .prepare(
      'SELECT account_id FROM contacts WHERE blocked = 0 AND delivery_token IS NOT NULL AND account_id <> ? ORDER BY id',
      {
        pluck: true,
      },
    )
    .all<string>([own.accountId]);
  for (const contact of contacts) queueTokenUpdate(db, own, contact, token, now);
}

/**
 * Only the newest signed and last-resort key stay current (as migration 0007
 * left them): a version 1 backup's keys all read as current.
 */
export function keepOneCurrentKey(db: Sql, now: number): void {
  for (const [table, where] of [
    ['signed_pre_keys', ''],
    ['kyber_pre_keys', 'AND last_resort = 1'],
  ] as const) {
    db.prepare(
      `UPDATE ${table} SET state = 'previous', superseded_at = ? WHERE state = 'current' ${where}
         AND id <> (SELECT id FROM ${table} WHERE state = 'current' ${where} ORDER BY created_at DESC, id DESC LIMIT 1)`,
    ).run([now]);
  }
}

/**
 * A restored profile has no sessions; a peer still holds one with the old
 * device. One delivery receipt per conversation (for its newest received
 * message, else its newest message), sent on the first sync, starts a new
 * session from the peer's prekey bundle: the PreKey message makes the
 * peer's libsignal switch to it. Harmless to the peer (it only marks a
 * message it sent as delivered, which it was).
 */
export function queueSessionStarts(db: Sql, ownAccountId: string, now: number): void {
  const newest = db.prepare(
    `SELECT uuid FROM messages WHERE conversation_id = ? ORDER BY outgoing ASC, sent_at DESC, id DESC LIMIT 1`,
    { pluck: true },
  );
  const contacts = db
    .prepare(
      'SELECT c.id, k.account_id FROM conversations c JOIN contacts k ON k.id = c.contact_id ORDER BY c.id',
    )
    .all<{ id: number; account_id: string }>();
  for (const { id, account_id } of contacts) {
    const uuid = newest.get([id]);
    if (typeof uuid !== 'string' || account_id === ownAccountId) continue;
    try {
      queueReceipt(db, account_id, [uuid], now, now);
    } catch {
      // an id that is not an RFC 9562 UUID cannot go in a receipt; the next message starts the session
    }
  }
}
