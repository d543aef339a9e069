import { randomBytes } from 'node:crypto';
import { DELIVERY_TOKEN_BYTES } from '../../../shared/relay/protocol.ts';
import type { Sql } from '../db/sqlite.ts';
import type { Profile } from '../profile/profile.ts';
import { getSetting, setSetting } from '../profile/settings.ts';

// This account's delivery token (docs/message-format.md#delivery-tokens): 16
// random bytes that whoever may write to us presents to our relay. Kept as a
// setting (hex); `delivery.tokenRegisteredWith` names the home relay address
// that has registered the current token. Rotating clears it, so the engine
// registers the new token before it sends anything (contacts must never learn
// a token the relay does not accept yet).

function readToken(db: Sql): Uint8Array | undefined {
  const hex = getSetting(db, 'delivery.token');
  if (hex === undefined || !/^[0-9a-f]{32}$/.test(hex)) return undefined;
  return Uint8Array.from(Buffer.from(hex, 'hex'));
}

/** This account's current delivery token (made here if a profile somehow has none). */
export function ownDeliveryToken(profile: Profile): Uint8Array {
  const token = readToken(profile.db);
  if (token) return token;
  return profile.commit(undefined, (db) => rotateOwnToken(db));
}

/**
 * Replaces this account's delivery token inside the caller's transaction and
 * marks it unregistered. Everyone holding only the old one is cut off as soon
 * as the home relay has the new one.
 */
export function rotateOwnToken(db: Sql): Uint8Array {
  const token = Uint8Array.from(randomBytes(DELIVERY_TOKEN_BYTES));
  setSetting(db, 'delivery.token', Buffer.from(token).toString('hex'));
  db.prepare("DELETE FROM settings WHERE key = 'delivery.tokenRegisteredWith'").run();
  return token;
}

/** This account's delivery token if the home relay at `relayAddress` has not registered it yet (first run, after a rotation, after a relay change). */
export function tokenToRegister(profile: Profile, relayAddress: string): Uint8Array | undefined {
  const token = ownDeliveryToken(profile);
  return getSetting(profile.db, 'delivery.tokenRegisteredWith') === relayAddress
    ? undefined
    : token;
}

/** The home relay at `relayAddress` accepted `token`; a token rotated meanwhile stays pending. */
export function markTokenRegistered(
  profile: Profile,
  relayAddress: string,
  token: Uint8Array,
): void {
  profile.commit(undefined, (db) => {
    const current = readToken(db);
    if (!current || !Buffer.from(current).equals(Buffer.from(token))) return;
    setSetting(db, 'delivery.tokenRegisteredWith', relayAddress);
  });
}

/** What is known about reaching a contact: their relay, its id and their token. */
export interface ContactRoute {
  readonly relay: string | null;
  readonly relayId: string | null;
  readonly token: Uint8Array | null;
  readonly blocked: boolean;
}

/** How to reach `accountId` (all null for an account that is not a contact). */
export function contactRoute(db: Sql, accountId: string): ContactRoute {
  const row = db
    .prepare('SELECT relay, relay_id, delivery_token, blocked FROM contacts WHERE account_id = ?')
    .get<{
      relay: string | null;
      relay_id: string | null;
      delivery_token: Uint8Array<ArrayBuffer> | null;
      blocked: number;
    }>([accountId]);
  return {
    relay: row?.relay ?? null,
    relayId: row?.relay_id ?? null,
    token: row?.delivery_token ? Uint8Array.from(row.delivery_token) : null,
    blocked: row?.blocked === 1,
  };
}

/**
 * A contact sent a new token (their `token` content, sent at `sentAt`). An
 * older rotation arriving late never replaces a newer one. Entries that a
 * relay refused with the old token are due again at once.
 */
export function updateContactToken(
  db: Sql,
  accountId: string,
  token: Uint8Array,
  sentAt: number,
): void {
  const { changes } = db
    .prepare(
      `UPDATE contacts SET delivery_token = ?, token_sent_at = ?
       WHERE account_id = ? AND coalesce(token_sent_at, -1) < ?`,
    )
    .run([Uint8Array.from(token), sentAt, accountId, sentAt]);
  if (changes === 0) return;
  db.prepare(
    `UPDATE outbox SET next_attempt_at = 0, token_refused_at = NULL
     WHERE recipient = ? AND token_refused_at IS NOT NULL AND next_attempt_at < ?`,
  ).run([accountId, Number.MAX_SAFE_INTEGER]);
}
