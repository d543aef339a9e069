import { join } from 'node:path';
import { groupDecrypt } from '@signalapp/libsignal-client';
import { describe, expect, it } from 'vitest';
import {
  createGroup,
  removeMember,
  renameGroup,
  addMember,
  leaveGroup,
} from '../../../electron/core/groups/group-ops.ts';
import {
  distributeSenderKeys,
  encryptGroupQueued,
  queueGroupText,
} from '../../../electron/core/groups/group-queue.ts';
import { loadGroup } from '../../../electron/core/groups/group-store.ts';
import { SenderKeyUnit } from '../../../electron/core/groups/sender-key-store.ts';
import { localAddress } from '../../../electron/core/messaging/addresses.ts';
import type { Profile } from '../../../electron/core/profile/profile.ts';
import { befriend, type Person, person, settle } from '../../support/group-world.ts';
import { tempDir } from '../../support/profiles.ts';

// Groups end to end over a real folder relay: membership by
// signed updates, sender-key messages delivered with one multi-recipient
// send per relay, rotation on removal.

function bodies(profile: Profile, groupId: string): string[] {
  const group = loadGroup(profile.db, groupId);
  if (!group) return [];
  return profile.db
    .prepare('SELECT body FROM group_messages WHERE group_ref = ? ORDER BY sent_at, id', {
      pluck: true,
    })
    .all<string>([group.ref]);
}

function members(profile: Profile, groupId: string): string[] {
  return (loadGroup(profile.db, groupId)?.state.members ?? []).map((m) => m.name).sort();
}

async function world() {
  // One folder: an invite may name a folder relay only if it is the reader's own (relay-address.ts).
  const relay = join(tempDir(), 'relay');
  const alice = await person('Alice', relay);
  const bob = await person('Bob', relay);
  const carol = await person('Carol', relay);
  const dave = await person('Dave', relay);
  befriend(alice, bob);
  befriend(alice, carol);
  befriend(alice, dave);
  return { alice, bob, carol, dave, all: [alice, bob, carol, dave] as Person[] };
}

describe('groups over folder relays', () => {
  it('create, talk, add, rename: every member has every message once', async () => {
    const { alice, bob, carol, dave, all } = await world();
    const group = await createGroup(alice.profile, 'Climbing', [
      bob.profile.account.accountId,
      carol.profile.account.accountId,
    ]);
    await settle(all);
    for (const p of [bob, carol])
      expect(members(p.profile, group.groupId)).toEqual(['Alice', 'Bob', 'Carol']);
    expect(loadGroup(dave.profile.db, group.groupId)).toBeUndefined();

    queueGroupText(alice.profile, group.groupId, 'hello from Alice');
    await settle(all);
    // Bob and Carol were never contacts: the group made them reachable to each other.
    queueGroupText(bob.profile, group.groupId, 'hello from Bob');
    queueGroupText(carol.profile, group.groupId, 'hello from Carol');
    await settle(all);
    for (const p of [alice, bob, carol]) {
      expect(bodies(p.profile, group.groupId).sort()).toEqual(
        ['hello from Alice', 'hello from Bob', 'hello from Carol'].sort(),
      );
    }

    await addMember(alice.profile, group.groupId, dave.profile.account.accountId);
    await renameGroup(alice.profile, group.groupId, 'Climbing club');
    await settle(all);
    queueGroupText(carol.profile, group.groupId, 'welcome Dave');
    await settle(all);
    for (const p of all) {
      expect(loadGroup(p.profile.db, group.groupId)?.state.title).toBe('Climbing club');
      expect(members(p.profile, group.groupId)).toEqual(['Alice', 'Bob', 'Carol', 'Dave']);
    }
    // Dave reads from his join on, nothing before.
    expect(bodies(dave.profile, group.groupId)).toEqual(['welcome Dave']);
  }, 180_000);

  it('a removed member cannot decrypt what is sent after the removal; the others can', async () => {
    const { alice, bob, carol, all } = await world();
    const group = await createGroup(alice.profile, 'Team', [
      bob.profile.account.accountId,
      carol.profile.account.accountId,
    ]);
    await settle(all);
    queueGroupText(alice.profile, group.groupId, 'before');
    await settle(all);
    expect(bodies(carol.profile, group.groupId)).toEqual(['before']);

    await removeMember(alice.profile, group.groupId, carol.profile.account.accountId);
    await settle(all);
    expect(loadGroup(carol.profile.db, group.groupId)?.standing).toBe('removed');
    queueGroupText(alice.profile, group.groupId, 'after');
    queueGroupText(bob.profile, group.groupId, 'bob after');
    // Take Alice's ciphertext before it leaves the outbox and feed it to Carol directly.
    await distributeSenderKeys(alice.profile);
    await encryptGroupQueued(alice.profile);
    const leaked = alice.profile.db
      .prepare('SELECT ciphertext FROM group_outbox WHERE ciphertext IS NOT NULL', { pluck: true })
      .all<Uint8Array<ArrayBuffer>>();
    await settle(all);
    // Alice's and Bob's messages may share a millisecond: compare as sets.
    expect(bodies(bob.profile, group.groupId).sort()).toEqual(['after', 'before', 'bob after']);
    expect(bodies(carol.profile, group.groupId)).toEqual(['before']);
    expect(leaked.length).toBeGreaterThan(0);
    for (const ct of leaked) {
      await expect(
        groupDecrypt(localAddress(alice.profile), new SenderKeyUnit(carol.profile.db).store, ct),
      ).rejects.toThrow(/missing sender key state/);
    }
  }, 180_000);

  it('a member who leaves is gone for everyone, and the rest rotate', async () => {
    const { alice, bob, carol, all } = await world();
    const group = await createGroup(alice.profile, 'Trip', [
      bob.profile.account.accountId,
      carol.profile.account.accountId,
    ]);
    await settle(all);
    // Queued but never sent before leaving: it is not Bob's to send any more.
    const unsent = queueGroupText(bob.profile, group.groupId, 'unsent');
    await leaveGroup(bob.profile, group.groupId);
    expect(
      bob.profile.db
        .prepare('SELECT status FROM group_messages WHERE id = ?', { pluck: true })
        .get([unsent.id]),
    ).toBe('failed');
    expect(bob.profile.db.prepare('SELECT count(*) FROM group_outbox', { pluck: true }).get()).toBe(
      0,
    );
    await settle(all);
    for (const p of [alice, carol])
      expect(members(p.profile, group.groupId)).toEqual(['Alice', 'Carol']);
    expect(loadGroup(bob.profile.db, group.groupId)?.standing).toBe('left');
    queueGroupText(carol.profile, group.groupId, 'just us');
    await settle(all);
    expect(bodies(alice.profile, group.groupId)).toEqual(['just us']);
    // Bob keeps only his own unsent message; nothing Carol wrote after he left.
    expect(bodies(bob.profile, group.groupId)).toEqual(['unsent']);
  }, 180_000);
});
