import { afterEach, describe, expect, it } from 'vitest';
import { acceptIdentityChange } from '../../../electron/core/crypto/trust.ts';
import { ownDestination, resetIdentity } from '../../../electron/core/crypto/identity-reset.ts';
import { removeMember } from '../../../electron/core/groups/group-ops.ts';
import { queueGroupText } from '../../../electron/core/groups/group-queue.ts';
import { loadGroup } from '../../../electron/core/groups/group-store.ts';
import { acceptMemberChange } from '../../../electron/core/groups/member-identity.ts';
import type { Profile } from '../../../electron/core/profile/profile.ts';
import { rejectedCode, thrownCode } from '../../support/errors.ts';
import { createCoreService } from '../../../electron/core/service/app-service.ts';
import type { CoreService } from '../../../electron/core/service/types.ts';
import { SyncEngine } from '../../../electron/core/sync/engine.ts';
import { aliceBobCarol, type Person, settle } from '../../support/group-world.ts';
import { TEST_KDF } from '../../support/profiles.ts';
import { callService } from '../../support/service-call.ts';

// A member whose identity key changes is a different account (issue 12 §1):
// when their contact moves (a signed `moved` notice), every group they are
// in is flagged and sending to it waits for the user, as for 1:1; an admin
// removes them, any member may accept them as they are; nothing the new key
// sends counts as the old member's.

const engines: SyncEngine[] = [];
const services: CoreService[] = [];
afterEach(async () => {
  for (const service of services.splice(0)) await service.close();
  for (const engine of engines.splice(0)) await engine.close();
});

const call = callService;

function bodies(profile: Profile, groupId: string): string[] {
  const group = loadGroup(profile.db, groupId);
  return profile.db
    .prepare('SELECT body FROM group_messages WHERE group_ref = ? ORDER BY sent_at, id', {
      pluck: true,
    })
    .all<string>([group!.ref]);
}

async function bobMoves() {
  const { alice, bob, carol, all, group } = await aliceBobCarol('Choir', { bobKnowsCarol: true });
  queueGroupText(bob.profile, group.groupId, 'Bob, before');
  await settle(all);
  const oldBob = bob.profile.account.accountId;
  await resetIdentity(bob.profile, ownDestination(bob.profile));
  // The engine's home relay client is the old account's: the new account gets its own, as at restart.
  await bob.engine.close();
  const engine = new SyncEngine(bob.profile);
  engines.push(engine);
  await engine.registerToken();
  await engine.publishKeys();
  const newBob: Person = { ...bob, engine };
  const everyone = [alice, newBob, carol];
  await settle(everyone);
  return { alice, bob: newBob, carol, all: everyone, group, oldBob };
}

describe('groups: a member whose identity changed', () => {
  it('flags the member in every group; sending waits (IDENTITY_CHANGED) until an admin removes them', async () => {
    const { alice, carol, all, group, oldBob } = await bobMoves();
    for (const p of [alice, carol]) {
      expect(loadGroup(p.profile.db, group.groupId)!.changedMembers).toEqual([oldBob]);
      expect(thrownCode(() => queueGroupText(p.profile, group.groupId, 'blocked'))).toBe(
        'IDENTITY_CHANGED',
      );
    }
    await removeMember(alice.profile, group.groupId, oldBob);
    await settle(all);
    for (const p of [alice, carol]) {
      const after = loadGroup(p.profile.db, group.groupId)!;
      expect(after.changedMembers).toEqual([]);
      expect(after.state.members.map((m) => m.accountId)).not.toContain(oldBob);
    }
    queueGroupText(alice.profile, group.groupId, 'Alice, after');
    queueGroupText(carol.profile, group.groupId, 'Carol, after');
    await settle(all);
    for (const p of [alice, carol])
      expect(bodies(p.profile, group.groupId).sort()).toEqual([
        'Alice, after',
        'Bob, before',
        'Carol, after',
      ]);
  }, 240_000);

  it('a member who is not an admin may accept the flagged member as they are and send again', async () => {
    const { alice, carol, all, group, oldBob } = await bobMoves();
    expect(thrownCode(() => acceptMemberChange(carol.profile, group.groupId, 'nobody'))).toBe(
      'INVALID_INPUT',
    );
    acceptMemberChange(carol.profile, group.groupId, oldBob);
    expect(loadGroup(carol.profile.db, group.groupId)!.changedMembers).toEqual([]);
    queueGroupText(carol.profile, group.groupId, 'Carol accepted');
    await settle(all);
    expect(bodies(alice.profile, group.groupId)).toContain('Carol accepted');
    // Alice has not decided: still flagged for her.
    expect(loadGroup(alice.profile.db, group.groupId)!.changedMembers).toEqual([oldBob]);
  }, 240_000);

  it('accepting the move on the safety number screen (1:1) also lifts the group flag', async () => {
    const { alice, group, oldBob } = await bobMoves();
    expect(loadGroup(alice.profile.db, group.groupId)!.changedMembers).toEqual([oldBob]);
    acceptIdentityChange(alice.profile, oldBob);
    expect(loadGroup(alice.profile.db, group.groupId)!.changedMembers).toEqual([]);
    expect(
      thrownCode(() => queueGroupText(alice.profile, group.groupId, 'decided')),
    ).toBeUndefined();
  }, 240_000);

  it("nothing from the new key counts as the old member's: its group message is refused and never stored", async () => {
    const { alice, bob, carol, all, group } = await bobMoves();
    const newBob = bob.profile.account.accountId;
    // Bob's device still holds the group under his old id and talks in it with the new key.
    queueGroupText(bob.profile, group.groupId, 'new key speaking');
    expect((await bob.engine.sendOutbox()).sent).toBeGreaterThan(0);
    for (const p of [alice, carol]) {
      // Sealed by the new account, which is no member: refused at once, never decrypted.
      const received = await p.engine.receive({ firstWaitMs: 0, idleMs: 0 });
      expect(received).toMatchObject({ stored: 0, rejected: 1 });
      expect(bodies(p.profile, group.groupId)).toEqual(['Bob, before']);
      const fromNew = p.profile.db
        .prepare('SELECT count(*) FROM sender_keys WHERE address LIKE ?', { pluck: true })
        .get([`${newBob}.%`]);
      expect(fromNew).toBe(0);
      expect(
        loadGroup(p.profile.db, group.groupId)!.state.members.map((m) => m.accountId),
      ).not.toContain(newBob);
    }
    await settle(all);
    for (const p of [alice, carol])
      expect(bodies(p.profile, group.groupId)).toEqual(['Bob, before']);
  }, 240_000);

  it('the service shows the flag in the group summary, refuses groups:send, and groups:accept-member lifts it', async () => {
    const { alice, group, oldBob } = await bobMoves();
    await alice.engine.close();
    await alice.profile.close();
    const service = createCoreService({ profileDir: alice.dir, kdfCost: TEST_KDF, sync: false });
    services.push(service);
    await call(service, 'profile:unlock', { passphrase: alice.passphrase });
    const [summary] = await call(service, 'groups:list');
    expect(summary!.members.map((m) => [m.name, m.identityChanged])).toEqual([
      ['Alice', false],
      ['Bob', true],
      ['Carol', false],
    ]);
    expect(
      await rejectedCode(() => call(service, 'groups:send', { groupId: group.groupId, body: 'x' })),
    ).toBe('IDENTITY_CHANGED');
    const accepted = await call(service, 'groups:accept-member', {
      groupId: group.groupId,
      accountId: oldBob,
    });
    expect(accepted.members.every((m) => !m.identityChanged)).toBe(true);
    expect(
      await call(service, 'groups:send', { groupId: group.groupId, body: 'accepted' }),
    ).toMatchObject({ body: 'accepted', status: 'queued' });
  }, 240_000);
});
