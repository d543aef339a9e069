import { Fingerprint, PublicKey } from '@signalapp/libsignal-client';
import { SottoError } from '../errors.ts';
import type { Profile } from '../profile/profile.ts';

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
export function safetyNumber(profile: Profile, accountId: string): SafetyNumber {
  const identity = profile.state.getIdentity(accountId);
  if (!identity) throw new SottoError('UNKNOWN_CONTACT');
  const fingerprint = Fingerprint.new(
    FINGERPRINT_ITERATIONS,
    FINGERPRINT_VERSION,
    Buffer.from(profile.account.accountId, 'utf8'),
    profile.account.identity.publicKey,
    Buffer.from(accountId, 'utf8'),
    PublicKey.deserialize(Uint8Array.from(identity.publicKey)),
  );
  return {
    digits: fingerprint.displayableFingerprint().toString(),
    scannable: fingerprint.scannableFingerprint().toBuffer(),
  };
}

/**
 * The user compared safety numbers and they matched: the current key is
 * trusted and marked verified (this also accepts a pending identity change).
 */
export function markVerified(profile: Profile, accountId: string, now = Date.now()): void {
  acceptCurrentIdentity(profile, accountId, true, now);
}

/** The user accepted a changed safety number without verifying it. */
export function acceptIdentityChange(profile: Profile, accountId: string, now = Date.now()): void {
  acceptCurrentIdentity(profile, accountId, false, now);
}

/** Throws IDENTITY_CHANGED if sending to `accountId` must wait for the user. */
export function assertCanSend(profile: Profile, accountId: string): void {
  if (profile.state.getIdentity(accountId)?.trust === 'changed') throw new SottoError('IDENTITY_CHANGED');
}

function acceptCurrentIdentity(profile: Profile, accountId: string, verified: boolean, now: number): void {
  if (!profile.state.getIdentity(accountId)) throw new SottoError('UNKNOWN_CONTACT');
  profile.commit(undefined, (db) => {
    db.prepare(
      `UPDATE identities SET trust = 'trusted', verified = CASE WHEN ? THEN 1 ELSE verified END
       WHERE account_id = ?`,
    ).run([verified ? 1 : 0, accountId]);
    db.prepare('UPDATE identity_changes SET accepted_at = ? WHERE account_id = ? AND accepted_at IS NULL').run([
      now,
      accountId,
    ]);
    db.prepare(
      'UPDATE conversations SET identity_changed = 0 WHERE contact_id = (SELECT id FROM contacts WHERE account_id = ?)',
    ).run([accountId]);
  });
  profile.state.clearCache();
}
