import { randomUUID } from 'node:crypto';
import { encodeContent } from '../../../shared/protocol/content.ts';
import type { Sql } from '../db/sqlite.ts';
import { messageInsert } from '../history/message-insert.ts';
import { indexNewMessages } from '../history/search-index.ts';
import {
  type AccountRecord,
  type ContactRecord,
  type ConversationRecord,
  type DataRecord,
  type MessageRecord,
  UNCARRIED_SETTINGS,
} from './format/records.ts';
import { restoreGroup, restoreGroupMessage } from './group-records.ts';
import { keepOneCurrentKey, queueSessionStarts, queueTokenShares } from './restore-followups.ts';

// Writes backup records into a database that is not yet the profile's: a
// fresh one (full restore) or a copy of the live one (merge). The caller swaps
// it in only after everything here committed.

/**
 * How far key id counters jump on a full restore: keys the old device made
 * after the backup may sit in the relay's directory under the next ids, and
 * the relay keeps the first key it saw for an id.
 */
export const KEY_COUNTER_GAP = 10_000;
const MAX_KEY_ID = 0xffffff;
/** An outbox entry with this next attempt time waits for the user's retry (as outbox.ts parks them). */
const PARKED = Number.MAX_SAFE_INTEGER;
const BATCH = 5000;

/** What the restore wrote. */
export interface RestoreCounts {
  readonly messagesInserted: number;
  /** Already present (same uuid, or same sender, device and timestamp). */
  readonly messagesSkipped: number;
  readonly contactsInserted: number;
  /** Queued messages put back in the outbox. */
  readonly requeued: number;
}

/**
 * Applies records to `db`. `mode`:
 * - `full`: the database is empty (fresh schema): everything is restored,
 *   account and keys included;
 * - `merge`: the database is a copy of a live profile of the same account:
 *   its account, keys and settings win; missing contacts, conversations and
 *   messages (by uuid) are added.
 */
export class RestoreWriter {
  private readonly conversations = new Map<
    string,
    { id: number; created: boolean; lastSentAt: number }
  >();
  private pending: MessageRecord[] = [];
  private messagesInserted = 0;
  private messagesSkipped = 0;
  private contactsInserted = 0;
  private requeued = 0;

  constructor(
    private readonly db: Sql,
    private readonly mode: 'full' | 'merge',
    private readonly ownAccountId: string,
  ) {}

  /** Applies a batch of records (in stream order). Messages are committed in batches of 5,000. */
  apply(records: readonly DataRecord[]): void {
    const others: DataRecord[] = [];
    for (const record of records) {
      if (record.type === 'message') {
        this.pending.push(record);
        if (this.pending.length >= BATCH) this.flushMessages();
      } else others.push(record);
    }
    if (others.length > 0) this.db.transaction(() => others.forEach((r) => this.applyOne(r)))();
  }

  /** Commits the last messages, fixes conversation times, indexes for search and queues session starts. */
  finish(now = Date.now()): RestoreCounts {
    this.flushMessages();
    this.db.transaction(() => {
      const touch = this.db.prepare(
        'UPDATE conversations SET last_message_at = max(coalesce(last_message_at, 0), ?) WHERE id = ?',
      );
      for (const c of this.conversations.values())
        if (c.lastSentAt > 0) touch.run([c.lastSentAt, c.id]);
      indexNewMessages(this.db);
      if (this.mode === 'full') {
        // Keys made from now on must not reuse ids the old device may have published after the backup.
        this.db
          .prepare(
            `UPDATE key_counters SET next_id = ((next_id - 1 + ${KEY_COUNTER_GAP}) % ${MAX_KEY_ID}) + 1`,
          )
          .run();
        keepOneCurrentKey(this.db, now);
        queueSessionStarts(this.db, this.ownAccountId, now);
        queueTokenShares(this.db, now);
      }
    })();
    return {
      messagesInserted: this.messagesInserted,
      messagesSkipped: this.messagesSkipped,
      contactsInserted: this.contactsInserted,
      requeued: this.requeued,
    };
  }

  private applyOne(record: DataRecord): void {
    const db = this.db;
    const full = this.mode === 'full';
    switch (record.type) {
      case 'account':
        if (full) {
          db.prepare(
            `INSERT INTO account (singleton, account_id, display_name, device_id, registration_id, identity_key_pair, created_at)
             VALUES (1, ?, ?, ?, ?, ?, ?)`,
          ).run([
            record.accountId,
            record.displayName,
            record.deviceId,
            record.registrationId,
            bytes(record.identityKeyPair),
            record.createdAt,
          ]);
        }
        this.applyAccountRoute(record);
        return;
      case 'key':
        if (!full) return;
        if (record.kind === 'pre') {
          db.prepare(
            'INSERT INTO pre_keys (id, record, created_at, published, handed_out_at) VALUES (?, ?, ?, ?, ?)',
          ).run([
            record.id,
            bytes(record.record),
            record.createdAt,
            record.published ? 1 : 0,
            record.handedOutAt,
          ]);
        } else if (record.kind === 'signed') {
          db.prepare(
            'INSERT INTO signed_pre_keys (id, record, created_at, state, superseded_at) VALUES (?, ?, ?, ?, ?)',
          ).run([
            record.id,
            bytes(record.record),
            record.createdAt,
            record.state,
            record.supersededAt,
          ]);
        } else {
          db.prepare(
            `INSERT INTO kyber_pre_keys (id, record, last_resort, created_at, published, state, superseded_at, handed_out_at)
             VALUES (?, ?, ?, ?, ?, ?, ?, ?)`,
          ).run([
            record.id,
            bytes(record.record),
            record.lastResort ? 1 : 0,
            record.createdAt,
            record.published ? 1 : 0,
            record.state,
            record.supersededAt,
            record.handedOutAt,
          ]);
        }
        return;
      case 'keyUse':
        if (full) {
          db.prepare(
            'INSERT OR IGNORE INTO kyber_pre_key_uses (kyber_pre_key_id, signed_pre_key_id, base_key) VALUES (?, ?, ?)',
          ).run([record.kyberId, record.signedId, bytes(record.baseKey)]);
        }
        return;
      case 'keyCounter':
        if (full)
          db.prepare('INSERT INTO key_counters (kind, next_id) VALUES (?, ?)').run([
            record.kind,
            record.nextId,
          ]);
        return;
      case 'setting':
        // Version 2 carries these as typed members or not at all (records.ts); a version 1 file's copies are old state.
        if (UNCARRIED_SETTINGS.includes(record.key)) return;
        db.prepare(
          'INSERT INTO settings (key, value) VALUES (?, ?) ON CONFLICT (key) DO NOTHING',
        ).run([record.key, record.value]);
        return;
      case 'contact':
        this.applyContact(record);
        return;
      case 'conversation':
        this.applyConversation(record);
        return;
      case 'message':
        throw new Error('messages are batched');
      case 'group':
        restoreGroup(db, record);
        return;
      case 'groupMessage':
        if (restoreGroupMessage(db, record)) this.messagesInserted++;
        else this.messagesSkipped++;
        return;
    }
  }

  /**
   * This account's delivery token and pinned relay id. A full restore takes
   * the backup's (contacts hold that token) over the one the fresh schema
   * made, and leaves the token unregistered (no `delivery.tokenRegisteredWith`)
   * so the first sync registers it again. A merge keeps the live profile's:
   * its relay has registered it, and contacts may hold only a rotation newer
   * than the backup. A version 1 backup has neither: the fresh token stays.
   */
  private applyAccountRoute(record: AccountRecord): void {
    if (this.mode !== 'full') return;
    const set = this.db.prepare(
      'INSERT INTO settings (key, value) VALUES (?, ?) ON CONFLICT (key) DO UPDATE SET value = excluded.value',
    );
    if (record.deliveryToken !== null)
      set.run(['delivery.token', Buffer.from(record.deliveryToken, 'base64').toString('hex')]);
    if (record.relayId !== null) set.run(['relay.id', record.relayId]);
    this.db
      .prepare(
        "DELETE FROM settings WHERE key IN ('delivery.tokenRegisteredWith', 'keys.publishedTo')",
      )
      .run();
  }

  /**
   * A contact, its identity, route and move. Merging into an existing contact
   * (docs/backup-format.md#import): blocked if either side is; the token with
   * the newer `tokenSentAt` (the live one on a tie, as a late rotation never
   * replaces a newer one); relay and relay id follow the live contact unless
   * it has none (a relay id only with its own relay: SET reads the old row);
   * the move with the newer `issuedAt`.
   */
  private applyContact(record: ContactRecord): void {
    const token = record.deliveryToken === null ? null : bytes(record.deliveryToken);
    const existed =
      this.db.prepare('SELECT 1 FROM contacts WHERE account_id = ?').get([record.accountId]) !==
      undefined;
    this.db
      .prepare(
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
      )
      .run([
        record.accountId,
        record.displayName,
        record.relay,
        record.createdAt,
        record.relayId,
        token,
        record.tokenSentAt,
        record.blocked ? 1 : 0,
      ]);
    if (!existed) this.contactsInserted++;
    if (record.move) {
      const m = record.move;
      this.db
        .prepare(
          `INSERT INTO identity_moves (from_account, to_account, identity_key, relay, relay_id, token, issued_at, received_at, accepted_at)
           VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)
           ON CONFLICT (from_account) DO UPDATE SET to_account = excluded.to_account, identity_key = excluded.identity_key,
             relay = excluded.relay, relay_id = excluded.relay_id, token = excluded.token, issued_at = excluded.issued_at,
             received_at = excluded.received_at, accepted_at = excluded.accepted_at
           WHERE excluded.issued_at > identity_moves.issued_at`,
        )
        .run([
          record.accountId,
          m.to,
          bytes(m.identityKey),
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
      this.db
        .prepare(
          `INSERT INTO identities (account_id, public_key, trust, verified, first_seen_at, changed_at)
           VALUES (?, ?, ?, ?, ?, ?) ON CONFLICT (account_id) DO NOTHING`,
        )
        .run([
          record.accountId,
          bytes(i.publicKey),
          i.trust,
          i.verified ? 1 : 0,
          i.firstSeenAt,
          i.changedAt,
        ]);
    }
  }

  private applyConversation(record: ConversationRecord): void {
    const { changes } = this.db
      .prepare(
        `INSERT INTO conversations (contact_id, last_message_at, unread_count, identity_changed, draft, created_at)
         SELECT id, ?, ?, ?, ?, ? FROM contacts WHERE account_id = ? ON CONFLICT (contact_id) DO NOTHING`,
      )
      .run([
        record.lastMessageAt,
        record.unreadCount,
        record.identityChanged ? 1 : 0,
        record.draft,
        record.createdAt,
        record.with,
      ]);
    this.conversationFor(record.with, record.createdAt, changes > 0);
  }

  /** The conversation with `accountId`, made (with its contact) if the backup had none. */
  private conversationFor(accountId: string, now: number, created = false) {
    let conversation = this.conversations.get(accountId);
    if (!conversation) {
      const db = this.db;
      db.prepare(
        'INSERT INTO contacts (account_id, display_name, created_at) VALUES (?, NULL, ?) ON CONFLICT (account_id) DO NOTHING',
      ).run([accountId, now]);
      db.prepare(
        'INSERT INTO conversations (contact_id, created_at) SELECT id, ? FROM contacts WHERE account_id = ? ON CONFLICT (contact_id) DO NOTHING',
      ).run([now, accountId]);
      const id = Number(
        db
          .prepare(
            'SELECT c.id FROM conversations c JOIN contacts k ON k.id = c.contact_id WHERE k.account_id = ?',
            { pluck: true },
          )
          .get([accountId]),
      );
      conversation = { id, created, lastSentAt: 0 };
      this.conversations.set(accountId, conversation);
    }
    return conversation;
  }

  private flushMessages(): void {
    if (this.pending.length === 0) return;
    const batch = this.pending;
    this.pending = [];
    const db = this.db;
    db.transaction(() => {
      const insert = messageInsert(db);
      for (const m of batch) {
        const conversation = this.conversationFor(m.with, m.receivedAt);
        // A queued message goes back to the outbox; the peer drops it if the old device had sent it (same uuid).
        const messageId = insert({ ...m, conversationId: conversation.id });
        if (messageId === undefined) {
          this.messagesSkipped++;
          continue;
        }
        this.messagesInserted++;
        conversation.lastSentAt = Math.max(conversation.lastSentAt, m.sentAt);
        if (
          m.outgoing &&
          m.senderAccount === this.ownAccountId &&
          (m.status === 'queued' || m.status === 'failed')
        ) {
          this.requeue(m, messageId, m.status === 'failed');
        }
      }
    })();
  }

  /**
   * Outbox rows are not in a backup (they may hold ciphertext of a dropped
   * session): queued messages are queued again, failed ones parked so that
   * "retry" works as before.
   */
  private requeue(m: MessageRecord, messageId: number, parked: boolean): void {
    let payload: Uint8Array<ArrayBuffer>;
    try {
      payload = encodeContent({ v: 1, type: 'text', id: m.uuid, sentAt: m.sentAt, body: m.body });
    } catch {
      // Not sendable as it stands (e.g. an id from another client): shown as failed, not retried.
      this.db.prepare("UPDATE messages SET status = 'failed' WHERE id = ?").run([messageId]);
      return;
    }
    this.db
      .prepare(
        `INSERT INTO outbox (kind, message_id, client_message_id, recipient, recipient_device, payload, next_attempt_at, created_at)
         VALUES ('message', ?, ?, ?, 1, ?, ?, ?)`,
      )
      .run([messageId, randomUUID(), m.with, payload, parked ? PARKED : 0, Date.now()]);
    if (!parked) this.requeued++;
  }
}

function bytes(base64: string): Uint8Array<ArrayBuffer> {
  return Uint8Array.from(Buffer.from(base64, 'base64'));
}
