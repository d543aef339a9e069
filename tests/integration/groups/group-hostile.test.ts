import { randomUUID } from 'node:crypto';
import { join } from 'node:path';
import {
  IdentityKeyPair,
  PrivateKey,
  sealedSenderMultiRecipientMessageForSingleRecipient,
} from '@signalapp/libsignal-client';
import { describe, expect, it } from 'vitest';
import { deriveAccountId } from '../../../electron/core/crypto/account-id.ts';
import { queueGroupText } from '../../../electron/core/groups/group-queue.ts';
import { processEnvelopes } from '../../../electron/core/messaging/receive.ts';
import { queueText } from '../../../electron/core/index.ts';
import { createGroup, makeAdmin, renameGroup } from '../../../electron/core/groups/group-ops.ts';
import { signUpdate } from '../../../electron/core/groups/group-signing.ts';
import { loadGroup, updateRefusals } from '../../../electron/core/groups/group-store.ts';
import { queueGroupContent } from '../../../electron/core/messaging/outbox.ts';
import { type Content, decodeContent } from '../../../shared/protocol/content.ts';
import { fromBase64, toBase64 } from '../../../shared/protocol/encoding.ts';
import type { GroupUpdate, SignedGroupUpdate } from '../../../shared/protocol/group.ts';
import { befriend, type Person, person, settle } from '../../support/group-world.ts';
import { multiSealed } from '../../support/group-sealing.ts';
import { tempDir } from '../../support/profiles.ts';

// A group under attack by its own members and by strangers: forged,
// replayed and unauthorised updates change nothing and are counted;
// sender-key material from non-members is never used.

async function world() {
  const relay = join(tempDir(), 'relay');
  const alice = await person('Alice', relay);
  const bob = await person('Bob', relay);
  const carol = await person('Carol', relay);
  const mallory = await person('Mallory', relay);
  befriend(alice, bob);
  befriend(alice, carol);
  befriend(alice, mallory);
  const all = [alice, bob, carol, mallory];
  const group = await createGroup(alice.profile, 'Book club', [
    bob.profile.account.accountId,
    carol.profile.account.accountId,
  ]);
  await settle(all);
  return { alice, bob, carol, mallory, all, group };
}

/** Queues a raw group-update content from `from` to each of `to` (what a hostile client can send). */
function sendUpdate(from: Person, to: readonly Person[], signed: SignedGroupUpdate): void {
  from.profile.commit(undefined, (db) => {
    const content: Content = { v: 1, type: 'group-update', signed, sentAt: Date.now() };
    for (const p of to) queueGroupContent(db, p.profile.account.accountId, content, Date.now());
  });
}

function next(p: Person, groupId: string, action: GroupUpdate['action'], author = p): GroupUpdate {
  const state = loadGroup(p.profile.db, groupId)!.state;
  return {
    groupId,
    revision: state.revision + 1,
    parent: state.head,
    author: author.profile.account.accountId,
    action,
    signedAt: Date.now(),
  };
}

function title(p: Person, groupId: string): string | undefined {
  return loadGroup(p.profile.db, groupId)?.state.title;
}

describe('groups: hostile updates and strangers', () => {
  it('an update from a non-admin member changes nothing and is counted NOT_ADMIN', async () => {
    const { alice, bob, carol, all, group } = await world();
    const update = next(bob, group.groupId, { kind: 'rename', title: 'Bob rules' });
    sendUpdate(bob, [alice, carol], signUpdate(update, bob.profile.account.identity.privateKey));
    await settle(all);
    for (const p of [alice, carol]) {
      expect(title(p, group.groupId)).toBe('Book club');
      expect(updateRefusals(p.profile.db)).toMatchObject({ NOT_ADMIN: 1 });
    }
  }, 120_000);

  it('a wrong signature (an admin author, another key) is BAD_SIGNATURE; a claimed author who did not send it is NOT_AUTHOR', async () => {
    const { alice, bob, carol, all, group } = await world();
    await makeAdmin(alice.profile, group.groupId, bob.profile.account.accountId);
    await settle(all);
    const bySomeoneElse = signUpdate(
      next(bob, group.groupId, { kind: 'rename', title: 'Forged' }),
      PrivateKey.generate(),
    );
    sendUpdate(bob, [carol], bySomeoneElse);
    // Bob forwards an update claiming Alice wrote it, signed by Bob.
    const claimed = signUpdate(
      next(bob, group.groupId, { kind: 'rename', title: 'Alice said so' }, alice),
      bob.profile.account.identity.privateKey,
    );
    sendUpdate(bob, [carol], claimed);
    await settle(all);
    expect(title(carol, group.groupId)).toBe('Book club');
    expect(updateRefusals(carol.profile.db)).toMatchObject({ BAD_SIGNATURE: 1, NOT_AUTHOR: 1 });
  }, 120_000);

  it('a replayed older update, and one that skips a revision, change nothing (STALE, GAP)', async () => {
    const { alice, carol, all, group } = await world();
    await renameGroup(alice.profile, group.groupId, 'First');
    // The signed update as it left Alice (her queued pairwise content for Carol).
    const payload = alice.profile.db
      .prepare(
        "SELECT payload FROM outbox WHERE kind = 'group' AND recipient = ? ORDER BY id DESC",
        {
          pluck: true,
        },
      )
      .get<Uint8Array<ArrayBuffer>>([carol.profile.account.accountId])!;
    const content = decodeContent(payload);
    if (content.type !== 'group-update') throw new Error('not an update');
    const first = content.signed;
    await settle(all);
    await renameGroup(alice.profile, group.groupId, 'Second');
    await settle(all);
    expect(title(carol, group.groupId)).toBe('Second');
    sendUpdate(alice, [carol], first); // replayed
    const ahead = next(alice, group.groupId, { kind: 'rename', title: 'Future' });
    sendUpdate(
      alice,
      [carol],
      signUpdate(
        { ...ahead, revision: ahead.revision + 1 },
        alice.profile.account.identity.privateKey,
      ),
    );
    await settle(all);
    expect(title(carol, group.groupId)).toBe('Second');
    expect(updateRefusals(carol.profile.db)).toMatchObject({ STALE: 1, GAP: 1 });
  }, 120_000);

  it('two admins renaming at once converge on the same state everywhere (lower hash wins)', async () => {
    const { alice, bob, carol, all, group } = await world();
    await makeAdmin(alice.profile, group.groupId, bob.profile.account.accountId);
    await settle(all);
    await renameGroup(alice.profile, group.groupId, 'By Alice');
    await renameGroup(bob.profile, group.groupId, 'By Bob');
    await settle(all);
    const heads = [alice, bob, carol].map((p) => loadGroup(p.profile.db, group.groupId)!.state);
    expect(new Set(heads.map((s) => s.head)).size).toBe(1);
    expect(new Set(heads.map((s) => s.title)).size).toBe(1);
    expect(['By Alice', 'By Bob']).toContain(heads[0]!.title);
  }, 120_000);

  it('an SKDM from a non-member is ignored and counted; a sender-key message from a non-member is refused', async () => {
    const { alice, mallory, all, group } = await world();
    // Mallory (a contact of Alice, not a member) gets a session with Alice first.
    queueText(mallory.profile, alice.profile.account.accountId, 'hi');
    await settle(all);
    const sealed = await multiSealed(
      mallory.profile,
      [alice.profile],
      undefined,
      fromBase64(group.groupId),
    );
    mallory.profile.commit(undefined, (db) => {
      const skdm: Content = {
        v: 1,
        type: 'skdm',
        groupId: group.groupId,
        skdm: toBase64(sealed.skdm.serialize()),
        sentAt: Date.now(),
      };
      queueGroupContent(db, alice.profile.account.accountId, skdm, Date.now());
    });
    await settle(all);
    expect(updateRefusals(alice.profile.db)).toMatchObject({ SKDM_NOT_MEMBER: 1 });
    const senderKeys = alice.profile.db
      .prepare('SELECT count(*) FROM sender_keys WHERE address LIKE ?', { pluck: true })
      .get([`${mallory.profile.account.accountId}.%`]);
    expect(senderKeys).toBe(0);
    const [outcome] = await processEnvelopes(alice.profile, [
      {
        id: `mallory-${randomUUID()}`,
        body: sealedSenderMultiRecipientMessageForSingleRecipient(sealed.body),
        serverTime: Date.now(),
      },
    ]);
    expect(outcome).toMatchObject({ outcome: 'rejected', error: 'NOT_GROUP_MEMBER' });
    const stored = alice.profile.db
      .prepare('SELECT count(*) FROM group_messages WHERE sender_account = ?', { pluck: true })
      .get([mallory.profile.account.accountId]);
    expect(stored).toBe(0);
  }, 120_000);

  it("a member card naming a relay we may not use costs only that member's share, not the send pass", async () => {
    const { alice, bob, carol, all, group } = await world();
    const stranger = IdentityKeyPair.generate();
    const card = {
      accountId: deriveAccountId(stranger.publicKey),
      identityKey: toBase64(stranger.publicKey.serialize()),
      name: 'Stranger',
      relay: '/etc/not-a-relay',
      relayId: 'AAAAAAAAAAAAAAAAAAAAAA',
      token: toBase64(new Uint8Array(16)),
      admin: false,
    };
    const add = signUpdate(
      next(alice, group.groupId, { kind: 'add', member: card }),
      alice.profile.account.identity.privateKey,
    );
    sendUpdate(alice, [bob, carol], add);
    await settle(all);
    expect(loadGroup(bob.profile.db, group.groupId)!.state.members.map((m) => m.name)).toContain(
      'Stranger',
    );
    queueGroupText(bob.profile, group.groupId, 'still works');
    await settle(all);
    const ref = loadGroup(carol.profile.db, group.groupId)!.ref;
    expect(
      carol.profile.db
        .prepare('SELECT body FROM group_messages WHERE group_ref = ?', { pluck: true })
        .all([ref]),
    ).toEqual(['still works']);
  }, 120_000);
});
