import { randomBytes } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { removeMember } from '../../../electron/core/groups/group-ops.ts';
import { memberSafetyNumber, verifyMember } from '../../../electron/core/groups/member-trust.ts';
import type { Profile } from '../../../electron/core/profile/profile.ts';
import { thrownCode } from '../../support/errors.ts';
import { aliceBobCarol, settle } from '../../support/group-world.ts';

// Safety numbers of group members (groups/member-trust.ts) against what a
// hostile or damaged state offers: a member whose contact moved, a member
// removed since, a pinned key that is not the key the group carries.

async function hikers() {
  const { alice, bob, carol, group } = await aliceBobCarol('Hikers');
  return { alice, bob, carol, groupId: group.groupId };
}

const verifiedAt = (profile: Profile, id: string) =>
  profile.db
    .prepare('SELECT verified FROM identities WHERE account_id = ?', { pluck: true })
    .get([id]);

describe('member safety numbers', () => {
  it('refuse to verify a member whose contact moved, or whose pinned key is not the group key', async () => {
    const { alice, bob, carol, groupId } = await hikers();
    const carolId = carol.profile.account.accountId;
    // At Bob, Carol is known only through the group: the number and verification work.
    expect(memberSafetyNumber(bob.profile, groupId, carolId)).toMatchObject({ verified: false });

    // Carol's pinned key at Bob is swapped (a damaged or tampered row): the group key no longer matches.
    bob.profile.commit(undefined, (db) => {
      db.prepare('UPDATE identities SET public_key = ?, verified = 1 WHERE account_id = ?').run([
        Uint8Array.from([5, ...randomBytes(32)]),
        carolId,
      ]);
    });
    bob.profile.state.clearCache();
    expect(memberSafetyNumber(bob.profile, groupId, carolId).verified).toBe(false);
    expect(thrownCode(() => verifyMember(bob.profile, groupId, carolId))).toBe('IDENTITY_CHANGED');

    // At Alice, Bob's contact moved and Alice has not decided: verification waits for that decision.
    const bobId = bob.profile.account.accountId;
    alice.profile.commit(undefined, (db) => {
      db.prepare("UPDATE identities SET trust = 'changed' WHERE account_id = ?").run([bobId]);
    });
    alice.profile.state.clearCache();
    expect(thrownCode(() => verifyMember(alice.profile, groupId, bobId))).toBe('IDENTITY_CHANGED');
    expect(verifiedAt(alice.profile, bobId)).toBe(0);
  });

  it('a member removed since has no number in that group any more', async () => {
    const { alice, bob, carol, groupId } = await hikers();
    const carolId = carol.profile.account.accountId;
    await removeMember(alice.profile, groupId, carolId);
    await settle([alice, bob, carol]);
    for (const profile of [alice.profile, bob.profile]) {
      expect(thrownCode(() => memberSafetyNumber(profile, groupId, carolId))).toBe(
        'UNKNOWN_CONTACT',
      );
      expect(thrownCode(() => verifyMember(profile, groupId, carolId))).toBe('UNKNOWN_CONTACT');
    }
    expect(verifiedAt(bob.profile, carolId)).toBe(0);
  });
});
