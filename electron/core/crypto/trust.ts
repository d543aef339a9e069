import type { AccountId } from '../../../shared/protocol/account-id.ts';
import { Fingerprint, PublicKey } from '@signalapp/libsignal-client';
import { SottoError } from '../errors.ts';
import type { Profile } from '../profile/profile.ts';
import { clearMovedMember } from '../groups/member-identity.ts';
import { completeMove, findMove } from './identity-move.ts';

/** libsignal's fingerprint parameters (as Signal uses them). */
const FINGERPRINT_ITERATIONS = 5200;
const FINGERPRINT_VERSION = 2;

/** A safety number: 60 digits to compare aloud, and bytes for a QR code. */
export interface SafetyNumber {
  readonly digits: string;
  readonly scannable: Uint8Array;
}

/**
 * The safety number between this account and a contact, from libsignal's
 * `Fingerprint` over both identity keys; identifiers are the UTF-8 account ids.
 */
export function safetyNumber(profile: Profile, accountId: AccountId): SafetyNumber {
  const identity = profile.state.getIdentity(accountId);
  if (!identity) throw new SottoError('UNKNOWN_CONTACT');
  // A contact that moved: the number to compare is the new account's, the one the user is asked to accept.
  const move = identity.trust === 'changed' ? findMove(profile.db, accountId) : undefined;
  const remote =
    move && move.acceptedAt === null
      ? { id: move.to, key: move.identityKey }
      : { id: accountId, key: identity.publicKey };
  return fingerprintOf(profile, remote.id, remote.key);
}

/** The safety number between this account and the key `remoteKey` of `remoteId` (a contact, or a group member's key as the group carries it). */
export function fingerprintOf(
  profile: Profile,
  remoteId: string,
  remoteKey: Uint8Array,
): SafetyNumber {
  const fingerprint = Fingerprint.new(
    FINGERPRINT_ITERATIONS,
    FINGERPRINT_VERSION,
    Buffer.from(profile.account.accountId, 'utf8'),
    profile.account.identity.publicKey,
    Buffer.from(remoteId, 'utf8'),
    PublicKey.deserialize(Uint8Array.from(remoteKey)),
  );
  return {
    digits: fingerprint.displayableFingerprint().toString(),
    scannable: fingerprint.scannableFingerprint().toBuffer(),
  };
}

/**
 * The user compared safety numbers and they matched: the current key is
 * marked verified; a pending move is accepted. Returns the contact's account
 * id afterwards (the new one after a move).
 */
export function markVerified(profile: Profile, accountId: AccountId, now = Date.now()): AccountId {
  return acceptCurrentIdentity(profile, accountId, true, now);
}

/** The user accepted a contact's move (its changed safety number) without verifying it; returns the new account id. */
export function acceptIdentityChange(
  profile: Profile,
  accountId: AccountId,
  now = Date.now(),
): AccountId {
  return acceptCurrentIdentity(profile, accountId, false, now);
}

/** Throws IDENTITY_CHANGED if sending to `accountId` must wait for the user. */
export function assertCanSend(profile: Profile, accountId: AccountId): void {
  if (profile.state.getIdentity(accountId)?.trust === 'changed')
    throw new SottoError('IDENTITY_CHANGED');
}

function acceptCurrentIdentity(
  profile: Profile,
  accountId: AccountId,
  verified: boolean,
  now: number,
): AccountId {
  const identity = profile.state.getIdentity(accountId);
  if (!identity) throw new SottoError('UNKNOWN_CONTACT');
  const move = identity.trust === 'changed' ? findMove(profile.db, accountId) : undefined;
  if (move && move.acceptedAt === null) {
    profile.commit(undefined, (db) => {
      completeMove(db, move, verified, profile.account.displayName, now);
      clearMovedMember(db, accountId);
    });
    profile.state.clearCache();
    return move.to;
  }
  profile.commit(undefined, (db) => {
    db.prepare(
      `UPDATE identities SET trust = 'trusted', verified = CASE WHEN ? THEN 1 ELSE verified END
       WHERE account_id = ?`,
    ).run([verified ? 1 : 0, accountId]);
    db.prepare(
      'UPDATE conversations SET identity_changed = 0 WHERE contact_id = (SELECT id FROM contacts WHERE account_id = ?)',
    ).run([accountId]);
  });
  profile.state.clearCache();
  return accountId;
}
