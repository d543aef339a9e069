import { PublicKey } from '@signalapp/libsignal-client';
import { type AccountId, accountIdSchema } from '../../../shared/protocol/account-id.ts';
import { SottoError } from '../errors.ts';
import { deriveAccountId } from '../crypto/account-id.ts';
import { ProtocolTransaction } from '../crypto/protocol-transaction.ts';
import type { Sql } from '../db/sqlite.ts';
import type { Profile } from '../profile/profile.ts';

/** What an invite tells about a person: enough to reach them and to pin their key. */
export interface ContactCard {
  readonly accountId: AccountId;
  readonly identityKey: Uint8Array;
  readonly displayName: string;
  readonly relay?: string;
  /** The relay's identifier from the invite (checked when connecting to it). */
  readonly relayId?: string;
  /** Their delivery token: what lets us reach their mailbox. */
  readonly token?: Uint8Array;
}

/** A contact as the history and UI see it. */
export interface Contact {
  readonly id: number;
  readonly accountId: AccountId;
  readonly displayName: string | null;
  readonly relay: string | null;
  readonly conversationId: number;
  readonly trust: 'trusted' | 'changed' | 'unknown';
  readonly verified: boolean;
  /** Blocked: our token was rotated away from them, nothing is sent to them and what they send is dropped. */
  readonly blocked: boolean;
}

/**
 * Adds (or updates) a contact from an invite. The identity key must be the
 * one the account id was derived from (IDENTITY_MISMATCH otherwise, nothing
 * stored): an account id is its key, so a known contact can never arrive
 * with another one. The invite's relay, relay id and token replace older ones.
 */
export function addContact(profile: Profile, card: ContactCard, now = Date.now()): Contact {
  let key: PublicKey;
  try {
    key = PublicKey.deserialize(Uint8Array.from(card.identityKey));
  } catch (error) {
    throw new SottoError('INVALID_INVITE', 'identity key', { cause: error });
  }
  if (deriveAccountId(key) !== card.accountId) throw new SottoError('IDENTITY_MISMATCH');
  if (card.accountId === profile.account.accountId)
    throw new SottoError('INVALID_INPUT', 'own account');
  const pinned = profile.state.getIdentity(card.accountId);
  if (pinned && !Buffer.from(pinned.publicKey).equals(Buffer.from(card.identityKey))) {
    throw new SottoError('IDENTITY_MISMATCH');
  }
  const tx = new ProtocolTransaction(profile.state);
  tx.saveIdentity(card.accountId, card.identityKey);
  profile.commit(
    tx,
    (db) => {
      db.prepare(
        `INSERT INTO contacts (account_id, display_name, relay, relay_id, delivery_token, created_at)
         VALUES (?, ?, ?, ?, ?, ?)
         ON CONFLICT (account_id) DO UPDATE SET display_name = excluded.display_name,
           relay = coalesce(excluded.relay, contacts.relay),
           relay_id = CASE WHEN excluded.relay IS NULL THEN contacts.relay_id ELSE excluded.relay_id END,
           delivery_token = coalesce(excluded.delivery_token, contacts.delivery_token),
           token_sent_at = CASE WHEN excluded.delivery_token IS NULL THEN contacts.token_sent_at END`,
      ).run([
        card.accountId,
        card.displayName,
        card.relay ?? null,
        card.relayId ?? null,
        card.token ? Uint8Array.from(card.token) : null,
        now,
      ]);
      ensureConversation(db, card.accountId, now);
    },
    now,
  );
  return getContact(profile.db, card.accountId);
}

/** Makes sure a contact row and its conversation exist; returns the conversation id. */
export function ensureConversation(db: Sql, accountId: AccountId, now: number): number {
  db.prepare(
    'INSERT INTO contacts (account_id, display_name, created_at) VALUES (?, NULL, ?) ON CONFLICT (account_id) DO NOTHING',
  ).run([accountId, now]);
  db.prepare(
    `INSERT INTO conversations (contact_id, created_at)
     SELECT id, ? FROM contacts WHERE account_id = ? ON CONFLICT (contact_id) DO NOTHING`,
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

const CONTACT_SELECT = `
  SELECT k.id, k.account_id AS accountId, k.display_name AS displayName, k.relay,
         c.id AS conversationId, coalesce(i.trust, 'unknown') AS trust, coalesce(i.verified, 0) AS verified,
         k.blocked
  FROM contacts k
  JOIN conversations c ON c.contact_id = k.id
  LEFT JOIN identities i ON i.account_id = k.account_id`;

type ContactRow = {
  id: number;
  /** Written only from parsed invites and derived keys (and checked by migration 0007). */
  accountId: AccountId;
  displayName: string | null;
  relay: string | null;
  conversationId: number;
  trust: Contact['trust'];
  verified: number;
  blocked: number;
};

function toContact(row: ContactRow): Contact {
  return { ...row, verified: row.verified === 1, blocked: row.blocked === 1 };
}

/** The contact with that account id; UNKNOWN_CONTACT if there is none. */
export function getContact(db: Sql, accountId: AccountId): Contact {
  const row = db.prepare(`${CONTACT_SELECT} WHERE k.account_id = ?`).get<ContactRow>([accountId]);
  if (!row) throw new SottoError('UNKNOWN_CONTACT');
  return toContact(row);
}

/** The contact a conversation is with; UNKNOWN_CONTACT if there is no such conversation. */
export function contactByConversation(db: Sql, conversationId: number): Contact {
  const row = db.prepare(`${CONTACT_SELECT} WHERE c.id = ?`).get<ContactRow>([conversationId]);
  if (!row) throw new SottoError('UNKNOWN_CONTACT');
  return toContact(row);
}

/** How many contacts this profile has. */
export function contactCount(db: Sql): number {
  return Number(db.prepare('SELECT count(*) FROM contacts', { pluck: true }).get());
}

/** All contacts, by name. */
export function listContacts(db: Sql): Contact[] {
  return db
    .prepare(
      `${CONTACT_SELECT} ORDER BY k.display_name IS NULL, k.display_name COLLATE NOCASE, k.account_id`,
    )
    .all<ContactRow>()
    .map(toContact);
}

/**
 * Resolves what a user typed (a display name or an account id) to one contact.
 * An ambiguous name is INVALID_INPUT rather than a guess.
 */
export function findContact(db: Sql, nameOrAccountId: string): Contact {
  // What the user typed is an account id only if it parses as one (then it is branded).
  const asId = accountIdSchema.safeParse(nameOrAccountId);
  const byId = asId.success
    ? db.prepare(`${CONTACT_SELECT} WHERE k.account_id = ?`).get<ContactRow>([asId.data])
    : undefined;
  if (byId) return toContact(byId);
  const byName = db
    .prepare(`${CONTACT_SELECT} WHERE k.display_name = ? COLLATE NOCASE`)
    .all<ContactRow>([nameOrAccountId]);
  if (byName.length > 1) throw new SottoError('INVALID_INPUT', 'ambiguous contact name');
  if (!byName[0]) throw new SottoError('UNKNOWN_CONTACT');
  return toContact(byName[0]);
}

/** The relay a contact receives on, if their invite named one. */
export function findContactRelay(db: Sql, accountId: string): string | undefined {
  const relay = db
    .prepare('SELECT relay FROM contacts WHERE account_id = ?', { pluck: true })
    .get([accountId]);
  return typeof relay === 'string' ? relay : undefined;
}
