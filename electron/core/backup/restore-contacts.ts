import { activeMute } from '../../../shared/mute.ts';
import type { Sql } from '../db/sqlite.ts';
import type { ContactRecord, ConversationRecord } from './format/records.ts';
import { recordBytes } from './restore-account.ts';

// Contacts and conversations of a backup, merged into what the database
// already holds (docs/backup-format.md#import).

/**
 * A contact, its identity, route and move; true if the contact is new.
 * Merging into an existing contact: blocked if either side is; the token
 * with the newer `tokenSentAt` (the live one on a tie, as a late rotation
 * never replaces a newer one); relay and relay id follow the live contact
 * unless it has none (a relay id only with its own relay: SET reads the old
 * row); the move with the newer `issuedAt`.
 */
export function restoreContact(db: Sql, record: ContactRecord): boolean {
  const token = record.deliveryToken === null ? null : recordBytes(record.deliveryToken);
  const existed =
    db.prepare('SELECT 1 FROM contacts WHERE account_id = ?').get([record.accountId]) !== undefined;
  db.prepare(
    `INSERT INTO contacts (account_id, display_name, relay, created_at, relay_id, delivery_token, token_sent_at, blocked)
     VALUES (?, ?, ?, ?, ?, ?, ?, ?)
     ON CONFLICT (account_id) DO UPDATE SET
       blocked = max(blocked, excluded.blocked),
       relay = coalesce(relay, excluded.relay),
       relay_id = CASE WHEN relay_id IS NULL AND (relay IS NULL OR relay = excluded.relay) THEN excluded.relay_id ELSE relay_id END,
       delivery_token = CASE WHEN excluded.delivery_token IS NOT NULL AND (delivery_token IS NULL
           OR coalesce(token_sent_at, -1) < coalesce(excluded.token_sent_at, -1)) THEN excluded.delivery_token ELSE delivery_token END,
       token_sent_at = CASE WHEN excluded.delivery_token IS NOT NULL AND (delivery_token IS NULL
           OR coalesce(token_sent_at, -1) < coalesce(excluded.token_sent_at, -1)) THEN excluded.token_sent_at ELSE token_sent_at END`,
  ).run([
    record.accountId,
    record.displayName,
    record.relay,
    record.createdAt,
    record.relayId,
    token,
    record.tokenSentAt,
    record.blocked ? 1 : 0,
  ]);
  if (record.move) {
    const m = record.move;
    db.prepare(
      `INSERT INTO identity_moves (from_account, to_account, identity_key, relay, relay_id, token, issued_at, received_at, accepted_at)
       VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)
       ON CONFLICT (from_account) DO UPDATE SET to_account = excluded.to_account, identity_key = excluded.identity_key,
         relay = excluded.relay, relay_id = excluded.relay_id, token = excluded.token, issued_at = excluded.issued_at,
         received_at = excluded.received_at, accepted_at = excluded.accepted_at
       WHERE excluded.issued_at > identity_moves.issued_at`,
    ).run([
      record.accountId,
      m.to,
      recordBytes(m.identityKey),
      m.relay,
      m.relayId,
      m.token,
      m.issuedAt,
      m.receivedAt,
      m.acceptedAt,
    ]);
  }
  if (record.identity) {
    const i = record.identity;
    db.prepare(
      `INSERT INTO identities (account_id, public_key, trust, verified, first_seen_at, changed_at)
       VALUES (?, ?, ?, ?, ?, ?) ON CONFLICT (account_id) DO NOTHING`,
    ).run([
      record.accountId,
      recordBytes(i.publicKey),
      i.trust,
      i.verified ? 1 : 0,
      i.firstSeenAt,
      i.changedAt,
    ]);
  }
  return !existed;
}

/** A conversation (its contact came first in the stream); true if it is new. */
export function restoreConversation(
  db: Sql,
  record: ConversationRecord,
  now = Date.now(),
): boolean {
  const { changes } = db
    .prepare(
      `INSERT INTO conversations (contact_id, last_message_at, unread_count, identity_changed, draft, created_at,
         muted_until)
       SELECT id, ?, ?, ?, ?, ?, ? FROM contacts WHERE account_id = ? ON CONFLICT (contact_id) DO NOTHING`,
    )
    .run([
      record.lastMessageAt,
      record.unreadCount,
      record.identityChanged ? 1 : 0,
      record.draft,
      record.createdAt,
      activeMute(record.mutedUntil, now),
      record.with,
    ]);
  return changes > 0;
}

/** The id of the conversation with `accountId`, made (with its contact) if the database has none. */
export function conversationWith(db: Sql, accountId: string, now: number): number {
  db.prepare(
    'INSERT INTO contacts (account_id, display_name, created_at) VALUES (?, NULL, ?) ON CONFLICT (account_id) DO NOTHING',
  ).run([accountId, now]);
  db.prepare(
    'INSERT INTO conversations (contact_id, created_at) SELECT id, ? FROM contacts WHERE account_id = ? ON CONFLICT (contact_id) DO NOTHING',
  ).run([now, accountId]);
  return Number(
    db
      .prepare(
        'SELECT c.id FROM conversations c JOIN contacts k ON k.id = c.contact_id WHERE k.account_id = ?',
        { pluck: true },
      )
      .get([accountId]),
  );
}
