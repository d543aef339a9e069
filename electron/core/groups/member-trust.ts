import type { GroupMember } from '../../../shared/protocol/group.ts';
import { fromBase64 } from '../../../shared/protocol/encoding.ts';
import { fingerprintOf, type SafetyNumber } from '../crypto/trust.ts';
import { SottoError } from '../errors.ts';
import type { Profile } from '../profile/profile.ts';
import { loadGroup } from './group-store.ts';

// Safety numbers of group members, contacts or not (docs/architecture.md#groups).
// The number is computed from the identity key the group carries for the
// member: the key their sender-key messages are checked against. Verifying it
// marks that key verified in `identities`, the one row per account that a 1:1
// conversation uses too: an account id is derived from its key, so a later
// 1:1 contact with the same account id is the same key and starts verified;
// a new key is a new account (a move), which no earlier verification covers.

/** A member's safety number and whether the user has verified the key the group carries. */
export interface MemberSafetyNumber extends SafetyNumber {
  readonly verified: boolean;
}

/** The current member `accountId` of group `groupId` (not ourselves), with their key as bytes. */
function memberOf(
  profile: Profile,
  groupId: string,
  accountId: string,
): { member: GroupMember; key: Uint8Array<ArrayBuffer> } {
  const group = loadGroup(profile.db, groupId);
  if (!group) throw new SottoError('UNKNOWN_GROUP');
  const member = group.state.members.find((m) => m.accountId === accountId);
  if (!member || accountId === profile.account.accountId) throw new SottoError('UNKNOWN_CONTACT');
  return { member, key: fromBase64(member.identityKey) };
}

/** True if the key pinned for `accountId` is this key (it always is, unless the rows were damaged). */
function pinnedKeyIs(profile: Profile, accountId: string, key: Uint8Array<ArrayBuffer>): boolean {
  const pinned = profile.state.getIdentity(accountId);
  return pinned !== undefined && Buffer.from(pinned.publicKey).equals(key);
}

/** The safety number of a group member from the key the group carries (UNKNOWN_GROUP, UNKNOWN_CONTACT). */
export function memberSafetyNumber(
  profile: Profile,
  groupId: string,
  accountId: string,
): MemberSafetyNumber {
  const { member, key } = memberOf(profile, groupId, accountId);
  const verified =
    pinnedKeyIs(profile, accountId, key) && profile.state.getIdentity(accountId)?.verified === true;
  return { ...fingerprintOf(profile, member.accountId, key), verified };
}

/**
 * The user compared a member's safety number: the key the group carries is
 * marked verified. A member whose contact moved waits for the user's decision
 * on the move instead (IDENTITY_CHANGED): the number shown is not the one a
 * move asks them to compare.
 */
export function verifyMember(profile: Profile, groupId: string, accountId: string): void {
  const { key } = memberOf(profile, groupId, accountId);
  const pinned = profile.state.getIdentity(accountId);
  if (!pinned || !pinnedKeyIs(profile, accountId, key) || pinned.trust === 'changed')
    throw new SottoError('IDENTITY_CHANGED');
  profile.commit(undefined, (db) => {
    db.prepare('UPDATE identities SET verified = 1 WHERE account_id = ? AND public_key = ?').run([
      accountId,
      key,
    ]);
  });
  profile.state.clearCache();
}
