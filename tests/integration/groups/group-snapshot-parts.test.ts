import { join } from 'node:path';
import { IdentityKeyPair } from '@signalapp/libsignal-client';
import { describe, expect, it } from 'vitest';
import { deriveAccountId } from '../../../electron/core/crypto/account-id.ts';
import { applyUpdate } from '../../../electron/core/groups/apply-update.ts';
import { addMember, createGroup } from '../../../electron/core/groups/group-ops.ts';
import { groupMessagesPage } from '../../../electron/core/groups/group-history.ts';
import { queueGroupText } from '../../../electron/core/groups/group-queue.ts';
import { signUpdate, updateHash } from '../../../electron/core/groups/group-signing.ts';
import { loadGroup, saveGroup, updateRefusals } from '../../../electron/core/groups/group-store.ts';
import {
  MAX_PENDING_PARTS_PER_SENDER,
  snapshotContents,
} from '../../../electron/core/groups/snapshot-parts.ts';
import { queueGroupContent } from '../../../electron/core/messaging/outbox.ts';
import type { Content } from '../../../shared/protocol/content.ts';
import { toBase64 } from '../../../shared/protocol/encoding.ts';
import type {
  GroupMember,
  GroupSnapshot,
  GroupUpdate,
  SignedGroupUpdate,
} from '../../../shared/protocol/group.ts';
import { befriend, type Person, person, settle } from '../../support/group-world.ts';
import { tempDir } from '../../support/profiles.ts';

// A new member's state in numbered parts (snapshot-parts.ts): a 1,000-member
// group reaches the member it adds, and parts that are forged, mixed,
// missing or replayed never produce a state.

type UpdateContent = Extract<Content, { type: 'group-update' }>;

/** A member card for a generated identity on a relay nobody can reach (connection refused at once). */
function generatedMember(i: number): GroupMember {
  const key = IdentityKeyPair.generate().publicKey;
  return {
    accountId: deriveAccountId(key),
    identityKey: toBase64(key.serialize()),
    name: `Generated member ${i} with a long enough name to take room`,
    relay: 'ws://127.0.0.1:9/generated-members-relay-that-refuses-connections',
    relayId: 'AAAAAAAAAAAAAAAAAAAAAA',
    token: toBase64(new Uint8Array(16).fill(i % 251)),
    admin: false,
  };
}

function queueContents(from: Person, to: Person, contents: readonly Content[]): void {
  from.profile.commit(undefined, (db) => {
    for (const c of contents) queueGroupContent(db, to.profile.account.accountId, c, Date.now());
  });
}

async function world() {
  const relay = join(tempDir(), 'relay');
  const alice = await person('Alice', relay);
  const bob = await person('Bob', relay);
  const dave = await person('Dave', relay);
  befriend(alice, bob);
  befriend(alice, dave);
  befriend(bob, dave);
  const group = await createGroup(alice.profile, 'Parts', [bob.profile.account.accountId]);
  await settle([alice, bob, dave]);
  return { alice, bob, dave, all: [alice, bob, dave], group };
}

/** `author` signs an add of `member` on its current state; the state it leads to (unapplied). */
function signedAdd(author: Person, groupId: string, member: Person, signedAt = Date.now()) {
  const state = loadGroup(author.profile.db, groupId)!.state;
  const card = state.members.find((m) => m.accountId === author.profile.account.accountId)!;
  const update: GroupUpdate = {
    groupId,
    revision: state.revision + 1,
    parent: state.head,
    author: author.profile.account.accountId,
    action: {
      kind: 'add',
      member: { ...card, ...cardFields(member), admin: false },
    },
    signedAt,
  };
  const signed = signUpdate(update, author.profile.account.identity.privateKey);
  const applied = applyUpdate(state, undefined, signed, author.profile.account.accountId);
  // A non-admin's add is refused by the rules: build the state it claims by hand.
  const next: GroupSnapshot = applied.ok
    ? applied.state
    : {
        ...state,
        revision: update.revision,
        head: '',
        members: [...state.members, (update.action as { member: GroupMember }).member],
      };
  return { signed, next };
}

function cardFields(p: Person) {
  return {
    accountId: p.profile.account.accountId,
    identityKey: toBase64(p.profile.account.identity.publicKey.serialize()),
    name: p.name,
  };
}

/** The snapshot of `signed` in two parts (as a large group would be split). */
function inTwo(signed: SignedGroupUpdate, snapshot: GroupSnapshot): UpdateContent[] {
  const { members, ...header } = snapshot;
  const half = Math.ceil(members.length / 2);
  return [members.slice(0, half), members.slice(half)].map((slice, part) => ({
    v: 1,
    type: 'group-update',
    signed,
    snapshotPart: { ...header, part, parts: 2, members: slice },
    sentAt: Date.now(),
  }));
}

function headOf(signed: SignedGroupUpdate, alice: Person, groupId: string): GroupSnapshot {
  const state = loadGroup(alice.profile.db, groupId)!.state;
  const applied = applyUpdate(state, undefined, signed, signed.update.author);
  if (!applied.ok) throw new Error(applied.reason);
  return applied.state;
}

function pendingParts(p: Person): number {
  return Number(
    p.profile.db.prepare('SELECT count(*) FROM group_snapshot_parts', { pluck: true }).get(),
  );
}

describe('groups: a new member state in parts', () => {
  it('adds a member to a 1,000-member group (the snapshot in parts), who then reads the next message', async () => {
    const relay = join(tempDir(), 'relay');
    const alice = await person('Alice', relay);
    const dave = await person('Dave', relay);
    befriend(alice, dave);
    const small = await createGroup(alice.profile, 'Everyone', []);
    // 998 generated members join Alice's state directly (the test's shortcut to a large group).
    const state = loadGroup(alice.profile.db, small.groupId)!.state;
    const big: GroupSnapshot = {
      ...state,
      members: [...state.members, ...Array.from({ length: 998 }, (_, i) => generatedMember(i))],
    };
    alice.profile.commit(undefined, (db) => saveGroup(db, big, undefined, 'member', Date.now()));
    const after = await addMember(alice.profile, small.groupId, dave.profile.account.accountId);
    expect(after.members).toHaveLength(1000);
    const toDave = alice.profile.db
      .prepare("SELECT count(*) FROM outbox WHERE kind = 'group' AND recipient = ?", {
        pluck: true,
      })
      .get([dave.profile.account.accountId]);
    expect(Number(toDave)).toBeGreaterThan(2); // the parts (and Dave's sender key later)
    await settle([alice, dave], 30);
    const joined = loadGroup(dave.profile.db, small.groupId)!;
    expect(joined.standing).toBe('member');
    expect(joined.state).toEqual(after);
    expect(pendingParts(dave)).toBe(0);
    queueGroupText(alice.profile, small.groupId, 'welcome to the big room');
    await settle([alice, dave], 30);
    const page = groupMessagesPage(dave.profile.db, joined.ref, 10);
    expect(page.map((m) => m.body)).toEqual(['welcome to the big room']);
  }, 600_000);

  it('a missing part keeps the state waiting; the last part applies it; replayed parts change nothing', async () => {
    const { alice, dave, all, group } = await world();
    const { signed } = signedAdd(alice, group.groupId, dave);
    const [first, second] = inTwo(signed, headOf(signed, alice, group.groupId));
    queueContents(alice, dave, [first!, first!]); // the first part, twice
    await settle(all);
    expect(loadGroup(dave.profile.db, group.groupId)).toBeUndefined();
    expect(pendingParts(dave)).toBe(1);
    queueContents(alice, dave, [second!]);
    await settle(all);
    const joined = loadGroup(dave.profile.db, group.groupId)!;
    expect(joined.standing).toBe('member');
    expect(joined.state.members.map((m) => m.accountId)).toContain(dave.profile.account.accountId);
    expect(pendingParts(dave)).toBe(0);
    queueContents(alice, dave, [first!, second!]); // replayed after joining
    await settle(all);
    expect(loadGroup(dave.profile.db, group.groupId)!.state).toEqual(joined.state);
    expect(pendingParts(dave)).toBe(0);
    expect(updateRefusals(dave.profile.db)).toMatchObject({ STALE: 2 });
  }, 120_000);

  it('parts of two different updates (revisions) never combine', async () => {
    const { alice, dave, all, group } = await world();
    const a = signedAdd(alice, group.groupId, dave, 1000);
    const b = signedAdd(alice, group.groupId, dave, 2000);
    const [a0] = inTwo(a.signed, headOf(a.signed, alice, group.groupId));
    const [, b1] = inTwo(b.signed, headOf(b.signed, alice, group.groupId));
    // A part claiming a revision its update does not have.
    const [c0] = inTwo(a.signed, { ...headOf(a.signed, alice, group.groupId), revision: 7 });
    queueContents(alice, dave, [a0!, b1!, c0!]);
    await settle(all);
    expect(loadGroup(dave.profile.db, group.groupId)).toBeUndefined();
    expect(pendingParts(dave)).toBe(2);
    expect(updateRefusals(dave.profile.db)).toMatchObject({ INVALID: 1 });
  }, 120_000);

  it('parts of an add by a non-admin, or relayed by someone other than their author, are refused', async () => {
    const { alice, bob, dave, all, group } = await world();
    const byBob = signedAdd(bob, group.groupId, dave);
    const bobState = loadGroup(bob.profile.db, group.groupId)!.state;
    const claimed: GroupSnapshot = {
      ...bobState,
      revision: byBob.signed.update.revision,
      head: updateHash(byBob.signed),
      members: byBob.next.members,
    };
    queueContents(bob, dave, inTwo(byBob.signed, claimed));
    const fromAlice = signedAdd(alice, group.groupId, dave);
    queueContents(
      bob,
      dave,
      inTwo(fromAlice.signed, headOf(fromAlice.signed, alice, group.groupId)),
    );
    await settle(all);
    expect(loadGroup(dave.profile.db, group.groupId)).toBeUndefined();
    expect(updateRefusals(dave.profile.db)).toMatchObject({ BAD_SIGNATURE: 1, NOT_AUTHOR: 2 });
    expect(pendingParts(dave)).toBe(0);
  }, 120_000);

  it('one sender cannot make parts pile up: past the bound they are refused and counted', async () => {
    const { alice, dave, all, group } = await world();
    const floods = Array.from({ length: MAX_PENDING_PARTS_PER_SENDER + 3 }, (_, i) => {
      const { signed } = signedAdd(alice, group.groupId, dave, 10_000 + i);
      return inTwo(signed, headOf(signed, alice, group.groupId))[0]!;
    });
    queueContents(alice, dave, floods);
    await settle(all, 40);
    expect(pendingParts(dave)).toBe(MAX_PENDING_PARTS_PER_SENDER);
    expect(updateRefusals(dave.profile.db)).toMatchObject({ PARTS_FULL: 3 });
  }, 300_000);

  it('splits only what does not fit, into parts that each fit', () => {
    const members = Array.from({ length: 1000 }, (_, i) => generatedMember(i));
    const snapshot: GroupSnapshot = {
      groupId: toBase64(new Uint8Array(32).fill(1)),
      title: 'Big',
      revision: 3,
      head: toBase64(new Uint8Array(32).fill(2)),
      members,
    };
    const signed: SignedGroupUpdate = {
      update: {
        groupId: snapshot.groupId,
        revision: 3,
        parent: snapshot.head,
        author: members[0]!.accountId,
        action: { kind: 'add', member: members[1]! },
        signedAt: 1,
      },
      signature: toBase64(new Uint8Array(64)),
    };
    const big = snapshotContents(signed, snapshot, 1);
    expect(big.length).toBeGreaterThan(1);
    expect(big.flatMap((c) => c.snapshotPart!.members)).toEqual(members);
    expect(big.every((c) => c.snapshot === undefined)).toBe(true);
    const small = snapshotContents(signed, { ...snapshot, members: members.slice(0, 10) }, 1);
    expect(small).toHaveLength(1);
    expect(small[0]!.snapshot?.members).toHaveLength(10);
  });
});
