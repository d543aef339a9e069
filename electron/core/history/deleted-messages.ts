import type { Sql } from '../db/sqlite.ts';
import { log } from '../log.ts';
import type { Profile } from '../profile/profile.ts';

// The ids (uuid and sender, migration 0020) of incoming messages the user
// deleted (migration 0017): the receive paths drop a message whose id is here
// like a duplicate, so a
// copy under a new envelope id (a sender's retry, a group resend) does not
// bring a deleted message back. A redelivery of the same envelope id is
// already dropped by `processed_envelopes`.
//
// Entries are kept DELETED_KEEP_MS and then pruned, at open and every
// DELETED_PRUNE_INTERVAL_MS while the profile stays open (a desktop app stays
// open for weeks: profile.ts starts the timer). A copy can only
// come through a relay's mailbox, which keeps an envelope at most its TTL
// (30 days by default: `--ttl-days`, docs/relay-protocol.md#budgets), and a
// sender resends only from its outbox (an envelope whose answer a lost
// connection swallowed, on its next pass) or when the user retries a failed
// message, both of which wait for as long as the sender stays offline. 90
// days is the TTL plus two months offline; a copy resent later than that
// shows the message again, the cost of a bounded table.

/** How long a deleted incoming message's uuid keeps a resend out (90 days). */
export const DELETED_KEEP_MS = 90 * 24 * 60 * 60 * 1000;

/** How often an open profile prunes (6 h: the table never holds more than a few hours of expired entries). */
export const DELETED_PRUNE_INTERVAL_MS = 6 * 60 * 60 * 1000;

/** A deleted incoming message: its uuid and the account that sent it (migration 0020). */
export interface DeletedMessage {
  readonly uuid: string;
  readonly sender: string;
}

/** Records deleted incoming messages (inside the delete's transaction). */
export function recordDeleted(db: Sql, messages: readonly DeletedMessage[], now: number): void {
  const insert = db.prepare(
    'INSERT INTO deleted_messages (uuid, sender_account, deleted_at) VALUES (?, ?, ?) ON CONFLICT DO NOTHING',
  );
  for (const m of messages) insert.run([m.uuid, m.sender, now]);
}

/**
 * A check, prepared once per batch: true if the user deleted `sender`'s
 * message `uuid`. Another sender's message with the same uuid is not hit
 * (a group member who copied the id cannot suppress the real one), except
 * by an entry from before migration 0020, which names no sender.
 */
export function deletedCheck(db: Sql): (uuid: string, sender: string) => boolean {
  const find = db.prepare(
    'SELECT 1 FROM deleted_messages WHERE uuid = ? AND (sender_account = ? OR sender_account IS NULL)',
    { pluck: true },
  );
  return (uuid, sender) => find.get([uuid, sender]) !== undefined;
}

/** Forgets deleted uuids older than DELETED_KEEP_MS as of `now`; returns how many went. */
export function pruneDeleted(db: Sql, now: number): number {
  return db
    .prepare('DELETE FROM deleted_messages WHERE deleted_at < ?')
    .run([now - DELETED_KEEP_MS]).changes;
}

/**
 * Prunes every `intervalMs` while `profile` is open, on an unref'd timer (it
 * never keeps a process alive); returns the function that stops it (close).
 */
export function pruneWhileOpen(
  profile: Profile,
  schedule = { intervalMs: DELETED_PRUNE_INTERVAL_MS, now: Date.now },
): () => void {
  const timer = setInterval(() => {
    try {
      // One short transaction on the profile's connection, whose statements are
      // synchronous: it runs between the writers' transactions, never inside one.
      profile.commit(undefined, (db) => pruneDeleted(db, schedule.now()));
    } catch (error) {
      log.error('history.prune_deleted', error);
    }
  }, schedule.intervalMs);
  timer.unref();
  return () => clearInterval(timer);
}
