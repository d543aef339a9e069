import type { AccountId } from '../../../shared/protocol/account-id.ts';
import { PublicKey } from '@signalapp/libsignal-client';
import type { Content } from '../../../shared/protocol/content.ts';
import { fromBase64 } from '../../../shared/protocol/encoding.ts';
import { moveNoticeMessage } from '../../../shared/relay/protocol.ts';
import type { Sql } from '../db/sqlite.ts';
import { flagMovedMember } from '../groups/member-identity.ts';
import { deriveAccountId } from './account-id.ts';
import { readdressQueued } from './move-outbox.ts';
import type { ProtocolTransaction } from './protocol-transaction.ts';
import type { IdentityRow } from './protocol-writes.ts';
import { countTrustRefusal, type TrustRefusalCode } from './trust-refusals.ts';

/** A `moved` content (shared/protocol/content.ts). */
export type MovedContent = Extract<Content, { type: 'moved' }>;

/** Who sent an envelope, as the sealed sender's certificate proved it (key derives id, chain valid). */
export interface VerifiedSender {
  readonly accountId: string;
  readonly identityKey: Uint8Array;
}

/** A contact's move the user has not accepted yet (or the last one accepted). */
export interface IdentityMove {
  readonly from: AccountId;
  readonly to: AccountId;
  readonly identityKey: Uint8Array;
  readonly relay: string;
  readonly relayId: string;
  readonly token: string;
  readonly issuedAt: number;
  readonly acceptedAt: number | null;
}

type MoveRow = {
  from_account: AccountId;
  to_account: AccountId; // both derived from keys before they were written
  identity_key: Uint8Array<ArrayBuffer>;
  relay: string;
  relay_id: string;
  token: string;
  issued_at: number;
  accepted_at: number | null;
};

/** The move recorded for a contact's (old) account id, if any. */
export function findMove(db: Sql, from: string): IdentityMove | undefined {
  const row = db
    .prepare('SELECT * FROM identity_moves WHERE from_account = ?')
    .get<MoveRow>([from]);
  return row && toMove(row);
}

/** The pending (unaccepted) move to the account `to`, if any: its messages belong to the old contact's conversation. */
export function findPendingMoveTo(db: Sql, to: string): IdentityMove | undefined {
  const row = db
    .prepare('SELECT * FROM identity_moves WHERE to_account = ? AND accepted_at IS NULL')
    .get<MoveRow>([to]);
  return row && toMove(row);
}

function toMove(row: MoveRow): IdentityMove {
  return {
    from: row.from_account,
    to: row.to_account,
    identityKey: row.identity_key,
    relay: row.relay,
    relayId: row.relay_id,
    token: row.token,
    issuedAt: row.issued_at,
    acceptedAt: row.accepted_at,
  };
}

function verifies(key: Uint8Array, message: Uint8Array, signature: Uint8Array): boolean {
  try {
    return PublicKey.deserialize(Uint8Array.from(key)).verify(
      Uint8Array.from(message),
      Uint8Array.from(signature),
    );
  } catch {
    return false;
  }
}

function sameBytes(a: Uint8Array, b: Uint8Array): boolean {
  return Buffer.from(a).equals(Buffer.from(b));
}

/**
 * Checks a received `moved` content and, if it is genuine, records a pending
 * move for the contact (docs/threat-model.md#trust-decisions). Genuine means:
 * `notice.from` is a contact, the signature verifies under the key pinned for
 * it, `notice.to` and `notice.identityKey` are the sender's own (as its sealed
 * sender certificate proved them), and it is newer than any notice applied
 * before. The contact's trust becomes `changed` (sending waits; the banner
 * shows) until the user accepts or verifies (trust.ts). Anything else is
 * refused and counted. Runs inside the receive commit; `tx` carries the trust
 * change so the identity cache learns it only after COMMIT.
 */
export function applyMoveNotice(
  db: Sql,
  tx: ProtocolTransaction,
  sender: VerifiedSender,
  content: MovedContent,
  now: number,
): 'pending' | TrustRefusalCode {
  const subject = subjectOf(db, tx, content.notice.from);
  const refusal = subject ? checkNotice(db, subject, sender, content) : 'move.unknown-account';
  if (refusal || !subject) {
    countTrustRefusal(db, refusal ?? 'move.unknown-account', now);
    return refusal ?? 'move.unknown-account';
  }
  const { notice } = content;
  const newKey = fromBase64(notice.identityKey);
  db.prepare(
    `INSERT INTO identity_moves (from_account, to_account, identity_key, relay, relay_id, token, issued_at, received_at, accepted_at)
     VALUES (?, ?, ?, ?, ?, ?, ?, ?, NULL)
     ON CONFLICT (from_account) DO UPDATE SET to_account = excluded.to_account, identity_key = excluded.identity_key,
       relay = excluded.relay, relay_id = excluded.relay_id, token = excluded.token, issued_at = excluded.issued_at,
       received_at = excluded.received_at, accepted_at = NULL`,
  ).run([
    subject.contact,
    notice.to,
    newKey,
    content.relay,
    content.relayId,
    content.token,
    notice.issuedAt,
    now,
  ]);
  db.prepare(
    'INSERT INTO identity_changes (account_id, old_key, new_key, detected_at) VALUES (?, ?, ?, ?)',
  ).run([subject.contact, Uint8Array.from(subject.signer), newKey, now]);
  db.prepare(
    'UPDATE conversations SET identity_changed = 1 WHERE contact_id = (SELECT id FROM contacts WHERE account_id = ?)',
  ).run([subject.contact]);
  flagMovedMember(db, subject.contact); // a new key is a new account: its groups wait for the user too
  tx.writes.identities.set(subject.contact, {
    ...subject.pinned,
    trust: 'changed',
    verified: false,
    changedAt: now,
  });
  return 'pending';
}

/** Which contact a notice from `from` is about, and the key that must have signed it. */
type Subject = {
  readonly contact: string;
  readonly signer: Uint8Array;
  readonly pinned: IdentityRow;
};

/**
 * `from` is a contact (its pinned key signs), or the new account of a
 * contact's move still pending (that account reset again before the user
 * accepted: its key, from the first notice, signs, and the contact moves on).
 */
function subjectOf(db: Sql, tx: ProtocolTransaction, from: string): Subject | undefined {
  const isContact = (id: string) =>
    db.prepare('SELECT 1 FROM contacts WHERE account_id = ?').get([id]) !== undefined;
  const pinned = tx.identity(from);
  if (pinned && isContact(from)) return { contact: from, signer: pinned.publicKey, pinned };
  const pending = findPendingMoveTo(db, from);
  const contactPin = pending && tx.identity(pending.from);
  if (pending && contactPin && isContact(pending.from))
    return { contact: pending.from, signer: pending.identityKey, pinned: contactPin };
  return undefined;
}

function checkNotice(
  db: Sql,
  subject: Subject,
  sender: VerifiedSender,
  content: MovedContent,
): TrustRefusalCode | undefined {
  const { notice } = content;
  let newKey: Uint8Array;
  try {
    newKey = fromBase64(notice.identityKey);
  } catch {
    return 'move.bad-signature';
  }
  const signed = moveNoticeMessage(notice.from, notice.to, newKey, notice.issuedAt);
  if (!verifies(subject.signer, signed, fromBase64(notice.signature))) return 'move.bad-signature';
  // The notice must be about the very account that sent it: a notice relayed by anyone else
  // (or naming a key that is not the new id's) could point the contact at a third party.
  if (
    notice.to !== sender.accountId ||
    notice.from === notice.to ||
    notice.to === subject.contact ||
    !sameBytes(newKey, sender.identityKey) ||
    !derives(newKey, notice.to)
  ) {
    return 'move.misaddressed';
  }
  const previous = findMove(db, subject.contact);
  if (previous && previous.issuedAt >= notice.issuedAt) return 'move.replayed';
  return undefined;
}

function derives(key: Uint8Array, accountId: string): boolean {
  try {
    return deriveAccountId(PublicKey.deserialize(Uint8Array.from(key))) === accountId;
  } catch {
    return false;
  }
}

/**
 * The user accepted (or verified) a contact's pending move: the contact and
 * its conversation now belong to the new account id and key, the old
 * account's identity and sessions are dropped, and queued messages follow
 * the contact. Call inside a transaction; the caller clears the identity cache after COMMIT.
 */
export function completeMove(
  db: Sql,
  move: IdentityMove,
  verified: boolean,
  senderName: string,
  now: number,
): void {
  const conversationOf = db.prepare(
    'SELECT c.id FROM conversations c JOIN contacts k ON k.id = c.contact_id WHERE k.account_id = ?',
    { pluck: true },
  );
  const kept = Number(conversationOf.get([move.from]));
  // Messages the new account sent before its notice arrived opened a conversation of their own: fold it in.
  const stray = conversationOf.get([move.to]);
  if (typeof stray === 'number') {
    db.prepare('UPDATE messages SET conversation_id = ? WHERE conversation_id = ?').run([
      kept,
      stray,
    ]);
    db.prepare('DELETE FROM conversations WHERE id = ?').run([stray]);
    db.prepare('DELETE FROM contacts WHERE account_id = ?').run([move.to]);
  }
  // The route to the new account is the one its `moved` content gave (relay, relay id, delivery token).
  db.prepare(
    'UPDATE contacts SET account_id = ?, relay = ?, relay_id = ?, delivery_token = ?, token_sent_at = ? WHERE account_id = ?',
  ).run([move.to, move.relay, move.relayId, fromBase64(move.token), move.issuedAt, move.from]);
  db.prepare(
    `INSERT INTO identities (account_id, public_key, trust, verified, first_seen_at, changed_at)
     VALUES (?, ?, 'trusted', ?, ?, NULL)
     ON CONFLICT (account_id) DO UPDATE SET trust = 'trusted', verified = excluded.verified`,
  ).run([move.to, Uint8Array.from(move.identityKey), verified ? 1 : 0, now]);
  db.prepare('DELETE FROM identities WHERE account_id = ?').run([move.from]);
  db.prepare("DELETE FROM sessions WHERE substr(address, 1, length(?) + 1) = ? || '.'").run([
    move.from,
    move.from,
  ]);
  readdressQueued(db, move.from, move.to, senderName);
  db.prepare('UPDATE identity_moves SET accepted_at = ? WHERE from_account = ?').run([
    now,
    move.from,
  ]);
  db.prepare(
    'UPDATE identity_changes SET accepted_at = ? WHERE account_id = ? AND accepted_at IS NULL',
  ).run([now, move.from]);
  db.prepare('UPDATE conversations SET identity_changed = 0 WHERE id = ?').run([kept]);
}
