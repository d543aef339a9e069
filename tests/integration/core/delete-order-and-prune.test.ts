import { randomUUID } from 'node:crypto';
import { join } from 'node:path';
import { describe, expect, it, vi } from 'vitest';
import { encodeContent } from '../../../shared/protocol/content.ts';
import {
  deleteMessages,
  findContact,
  listConversations,
  messagesPage,
  processEnvelopes,
  Profile,
  queueText,
} from '../../../electron/core/index.ts';
import { groupActivity } from '../../../electron/core/groups/group-activity.ts';
import { queueGroupText } from '../../../electron/core/groups/group-queue.ts';
import { DELETED_KEEP_MS, recordDeleted } from '../../../electron/core/history/deleted-messages.ts';
import { queueMessageContent } from '../../../electron/core/messaging/outbox.ts';
import { aliceAndBob } from '../../support/group-world.ts';
import { flushOutbox, introduce, newProfile, TEST_KDF, tempDir } from '../../support/profiles.ts';

// "Delete for me" leftovers: the conversation list's order after the newest
// messages go (1:1 and groups), and the bound on `deleted_messages` (an entry
// inside DELETED_KEEP_MS still keeps a resend out, one past it is pruned at open).

const order = (profile: Profile) => listConversations(profile.db).map((c) => c.displayName);

async function bobWithTwoContacts() {
  const { profile: alice } = await newProfile('Alice');
  const { profile: carol } = await newProfile('Carol');
  const bob = await newProfile('Bob');
  await introduce(alice, bob.profile);
  await introduce(carol, bob.profile, 1);
  return { alice, carol, bob };
}

/** `from` sends `texts` to `to`, which receives them; the stored ids, in order. */
async function deliver(from: Profile, to: Profile, texts: readonly string[]) {
  for (const text of texts) queueText(from, to.account.accountId, text);
  const outcomes = await processEnvelopes(to, await flushOutbox(from));
  return outcomes.flatMap((o) => (o.outcome === 'stored' ? [o.messageId] : []));
}

describe('conversation order after delete for me', () => {
  it('deleting the newest messages moves a 1:1 conversation back to the newest that stayed; deleting all puts it last', async () => {
    const { alice, carol, bob } = await bobWithTwoContacts();
    const fromAlice = await deliver(alice, bob.profile, ['alice old']);
    const fromCarol = await deliver(carol, bob.profile, ['carol middle']);
    const aliceNew = await deliver(alice, bob.profile, ['alice newest', 'alice newest 2']);
    expect(order(bob.profile)).toEqual(['Alice', 'Carol']);
    const toAlice = findContact(bob.profile.db, 'Alice').conversationId;
    const aliceOld = messagesPage(bob.profile.db, toAlice, 10).at(-1)!;

    await deleteMessages(bob.profile, { conversationId: toAlice }, aliceNew);
    expect(order(bob.profile)).toEqual(['Carol', 'Alice']);
    const row = listConversations(bob.profile.db).find((c) => c.displayName === 'Alice')!;
    expect(row.lastMessageAt).toBe(aliceOld.sentAt);
    expect(row.lastMessagePreview).toBe('alice old');
    expect(row.unreadCount).toBe(1);

    // Emptied: it sorts with the conversations that never had a message (last).
    await deleteMessages(bob.profile, { conversationId: toAlice }, fromAlice);
    const toCarol = findContact(bob.profile.db, 'Carol').conversationId;
    await deleteMessages(bob.profile, { conversationId: toCarol }, fromCarol);
    const emptied = listConversations(bob.profile.db);
    expect(emptied.map((c) => [c.lastMessageAt, c.lastMessagePreview, c.unreadCount])).toEqual([
      [null, null, 0],
      [null, null, 0],
    ]);
    // A new message brings a conversation back to the top.
    await deliver(alice, bob.profile, ['alice again']);
    expect(order(bob.profile)[0]).toBe('Alice');

    // The order survives a reopen (it is stored, not derived in memory).
    await bob.profile.close();
    const reopened = await Profile.open(bob.dir, { passphrase: bob.passphrase });
    try {
      expect(order(reopened)).toEqual(['Alice', 'Carol']);
    } finally {
      await reopened.close();
    }
  });

  it('deleting a group’s newest messages moves its last message and preview back', async () => {
    const { alice, group } = await aliceAndBob('Order');
    const first = queueGroupText(alice.profile, group.groupId, 'first words');
    const last = queueGroupText(alice.profile, group.groupId, 'last words');
    expect(groupActivity(alice.profile.db, first.groupRef).lastMessagePreview).toBe('last words');
    await deleteMessages(alice.profile, { groupRef: first.groupRef }, [last.id]);
    const activity = groupActivity(alice.profile.db, first.groupRef);
    expect(activity.lastMessageAt).toBe(first.sentAt);
    expect(activity.lastMessagePreview).toBe('first words');
    await deleteMessages(alice.profile, { groupRef: first.groupRef }, [first.id]);
    expect(groupActivity(alice.profile.db, first.groupRef).lastMessageAt).toBeNull();
  });
});

describe('deleted_messages is bounded', () => {
  it('an entry inside the window still keeps a resend out; one past it is pruned at open', async () => {
    const { profile: alice } = await newProfile('Alice');
    const bob = await newProfile('Bob');
    await introduce(alice, bob.profile);
    const toBob = findContact(alice.db, 'Bob').conversationId;
    const ids = await deliver(alice, bob.profile, ['recent', 'ancient']);
    const sent = messagesPage(alice.db, toBob, 10).reverse();
    const toAlice = findContact(bob.profile.db, 'Alice').conversationId;
    const now = Date.now();
    // Deleted just inside the window, and just past it (as if the profile had been closed since).
    await deleteMessages(
      bob.profile,
      { conversationId: toAlice },
      [ids[0]!],
      now - DELETED_KEEP_MS + 60_000,
    );
    await deleteMessages(
      bob.profile,
      { conversationId: toAlice },
      [ids[1]!],
      now - DELETED_KEEP_MS - 1,
    );
    await bob.profile.close();
    const reopened = await Profile.open(bob.dir, { passphrase: bob.passphrase });
    try {
      expect(
        reopened.db.prepare('SELECT uuid FROM deleted_messages', { pluck: true }).all(),
      ).toEqual([sent[0]!.uuid]);
      // Alice's device sends both again under new envelope ids.
      alice.commit(undefined, (db) => {
        for (const m of sent)
          queueMessageContent(
            db,
            bob.profile.account.accountId,
            encodeContent({ v: 1, type: 'text', id: m.uuid, sentAt: m.sentAt, body: m.body }),
            m.id,
            Date.now(),
          );
      });
      const outcomes = await processEnvelopes(reopened, await flushOutbox(alice));
      expect(outcomes.map((o) => o.outcome)).toEqual(['duplicate', 'stored']);
      expect(messagesPage(reopened.db, toAlice, 10).map((m) => m.body)).toEqual(['ancient']);
    } finally {
      await reopened.close();
    }
  });

  it('while the profile stays open a timer prunes too: past the window goes, inside it stays; close stops it', async () => {
    // The interval is faked and the clock injected: each tick is run by the test, nothing waits.
    vi.useFakeTimers({ toFake: ['setInterval', 'clearInterval'] });
    try {
      let clock = Date.now();
      const HOUR = 3_600_000;
      const profile = await Profile.create(join(tempDir(), 'profile'), {
        displayName: 'Bob',
        passphrase: 'Bob passphrase',
        kdfCost: TEST_KDF,
        deletedPruning: { intervalMs: 60_000, now: () => clock },
      });
      const [old, young, sender] = [randomUUID(), randomUUID(), randomUUID()];
      profile.commit(undefined, (db) => {
        recordDeleted(db, [{ uuid: old, sender }], clock - DELETED_KEEP_MS - 1);
        recordDeleted(db, [{ uuid: young, sender }], clock - DELETED_KEEP_MS + 3 * HOUR);
      });
      const kept = () =>
        profile.db.prepare('SELECT uuid FROM deleted_messages', { pluck: true }).all<string>();
      vi.advanceTimersByTime(59_999);
      expect(kept().sort()).toEqual([old, young].sort());
      vi.advanceTimersByTime(1);
      expect(kept()).toEqual([young]);
      // Two hours on, the young one is still inside the window; two more and it is past it.
      clock += 2 * HOUR;
      vi.advanceTimersByTime(60_000);
      expect(kept()).toEqual([young]);
      clock += 2 * HOUR;
      vi.advanceTimersByTime(60_000);
      expect(kept()).toEqual([]);
      expect(vi.getTimerCount()).toBe(1);
      await profile.close();
      expect(vi.getTimerCount()).toBe(0);
    } finally {
      vi.useRealTimers();
    }
  });
});
