import { flagMovedMember } from '../../../electron/core/groups/member-identity.ts';
import { describe, expect, it } from 'vitest';
import { queueGroupText } from '../../../electron/core/groups/group-queue.ts';
import { loadGroup } from '../../../electron/core/groups/group-store.ts';
import { toGroupSummary } from '../../../electron/core/service/group-summary.ts';
import type { Profile } from '../../../electron/core/profile/profile.ts';
import { aliceBobCarol, settle } from '../../support/group-world.ts';

// What the app's list and members panel read from a group (GroupSummary), over
// real profiles and a folder relay: activity from the stored messages, each
// member's 1:1 conversation, and a member whose identity changed.

function summary(profile: Profile, groupId: string) {
  const group = loadGroup(profile.db, groupId);
  if (!group) throw new Error('no group');
  return toGroupSummary(profile, group);
}

describe('a group summary', () => {
  it('carries the last message, unread count, conversations and a pending identity change', async () => {
    const { alice, bob, carol, group: created } = await aliceBobCarol('Hikers');
    const empty = summary(bob.profile, created.groupId);
    expect(empty).toMatchObject({
      lastMessageAt: null,
      lastMessagePreview: null,
      unreadCount: 0,
    });

    queueGroupText(alice.profile, created.groupId, 'x'.repeat(500));
    await settle([alice, bob, carol]);
    // A long message is previewed, never carried whole into the list.
    expect(summary(carol.profile, created.groupId).lastMessagePreview).toBe('x'.repeat(120));
    queueGroupText(bob.profile, created.groupId, 'from Bob');
    await settle([alice, bob, carol]);
    const atBob = summary(bob.profile, created.groupId);
    expect(atBob.unreadCount).toBe(1);
    expect(atBob.lastMessagePreview).toBe('from Bob');
    const atCarol = summary(carol.profile, created.groupId);
    expect(atCarol.unreadCount).toBe(2);
    // Carol knows Bob only through the group: no conversation, so no safety number screen yet.
    const bobAtCarol = atCarol.members.find((m) => m.name === 'Bob');
    expect(bobAtCarol).toMatchObject({ conversationId: null, identityChanged: false });
    const atAlice = summary(alice.profile, created.groupId);
    expect(atAlice.unreadCount).toBe(1);
    expect(summary(alice.profile, created.groupId).members.map((m) => [m.name, m.self])).toEqual([
      ['Alice', true],
      ['Bob', false],
      ['Carol', false],
    ]);
    const self = atAlice.members.find((m) => m.self);
    expect(self).toMatchObject({ conversationId: null, identityChanged: false });
    const bobAtAlice = atAlice.members.find((m) => m.name === 'Bob');
    expect(bobAtAlice?.conversationId).toEqual(expect.any(Number));

    // Bob's key changed and Alice has not decided (the state a genuine move notice leaves:
    // crypto/identity-move.ts): the member is flagged, the others are not.
    alice.profile.commit(undefined, (db) => {
      db.prepare("UPDATE identities SET trust = 'changed' WHERE account_id = ?").run([
        bob.profile.account.accountId,
      ]);
      flagMovedMember(db, bob.profile.account.accountId);
    });
    alice.profile.state.clearCache();
    expect(
      summary(alice.profile, created.groupId).members.map((m) => [m.name, m.identityChanged]),
    ).toEqual([
      ['Alice', false],
      ['Bob', true],
      ['Carol', false],
    ]);
  });
});
