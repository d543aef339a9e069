import { describe, expect, it } from 'vitest';
import {
  groupMessagesPage,
  memberDeliveries,
} from '../../../electron/core/groups/group-history.ts';
import {
  distributeSenderKeys,
  queueGroupText,
  SENDER_KEY_MAX_AGE_MS,
} from '../../../electron/core/groups/group-queue.ts';
import { loadGroup, updateRefusals } from '../../../electron/core/groups/group-store.ts';
import type { Profile } from '../../../electron/core/profile/profile.ts';
import { aliceBobCarol, settle } from '../../support/group-world.ts';

// Recovery and receipts: a member that lost the sender's chain asks for the
// message again and gets it pairwise (bounded); an offline member catches up;
// the sender sees delivery per member.

function bodies(profile: Profile, groupId: string): string[] {
  const ref = loadGroup(profile.db, groupId)!.ref;
  return groupMessagesPage(profile.db, ref, 1000)
    .reverse()
    .map((m) => m.body);
}

const world = () => aliceBobCarol('Recovery');

describe('groups: retry requests, catching up, receipts', () => {
  it('a member that lost the chain sends a retry request and gets the message pairwise', async () => {
    const { alice, bob, all, group } = await world();
    queueGroupText(alice.profile, group.groupId, 'one');
    await settle(all);
    expect(bodies(bob.profile, group.groupId)).toEqual(['one']);
    // Bob loses every sender key he held (a restore, a damaged record).
    bob.profile.db.prepare('DELETE FROM sender_keys').run();
    queueGroupText(alice.profile, group.groupId, 'two');
    await settle(all);
    expect(bodies(bob.profile, group.groupId)).toEqual(['one', 'two']);
    // And the chain was shared again: the next message arrives by sender key, no new request.
    // Alice answered exactly one request (for 'two', from Bob).
    const before = retryRows(alice.profile);
    expect(before).toBe(1);
    queueGroupText(alice.profile, group.groupId, 'three');
    await settle(all);
    expect(bodies(bob.profile, group.groupId)).toEqual(['one', 'two', 'three']);
    expect(retryRows(alice.profile)).toBe(before);
    expect(updateRefusals(alice.profile.db)['RETRY_REFUSED']).toBeUndefined();
  }, 180_000);

  it('a member offline for the whole exchange catches up in order', async () => {
    const { alice, bob, carol, group } = await world();
    for (let i = 0; i < 20; i++) queueGroupText(alice.profile, group.groupId, `a${i}`);
    for (let i = 0; i < 20; i++) queueGroupText(bob.profile, group.groupId, `b${i}`);
    await settle([alice, bob]);
    await settle([alice, bob, carol]);
    const got = bodies(carol.profile, group.groupId);
    expect(got.filter((b) => b.startsWith('a'))).toEqual(
      Array.from({ length: 20 }, (_, i) => `a${i}`),
    );
    expect(got.filter((b) => b.startsWith('b'))).toEqual(
      Array.from({ length: 20 }, (_, i) => `b${i}`),
    );
    expect(new Set(got).size).toBe(40);
  }, 180_000);

  it('delivery receipts: delivered to N of M, with per-member detail', async () => {
    const { alice, bob, carol, all, group } = await world();
    const sent = queueGroupText(alice.profile, group.groupId, 'did you get this?');
    await settle(all);
    // Receipts wait 1–10 s at random before they go out (message-format.md#receipts): wait on progress.
    const deadline = Date.now() + 60_000;
    let page = groupMessagesPage(alice.profile.db, sent.groupRef, 1)[0]!;
    while (page.delivered!.count < 2 && Date.now() < deadline) {
      await settle(all);
      await new Promise((r) => setImmediate(r));
      page = groupMessagesPage(alice.profile.db, sent.groupRef, 1)[0]!;
    }
    expect(page.delivered).toEqual({ count: 2, of: 2 });
    const detail = memberDeliveries(alice.profile.db, sent.id);
    expect(detail.map((d) => d.accountId).sort()).toEqual(
      [bob.profile.account.accountId, carol.profile.account.accountId].sort(),
    );
    expect(detail.every((d) => d.deliveredAt !== null)).toBe(true);
  }, 180_000);

  it('a chain older than 90 days is replaced before the next send, and members follow', async () => {
    const { alice, bob, carol, all, group } = await world();
    queueGroupText(alice.profile, group.groupId, 'old chain');
    await settle(all);
    const distribution = () =>
      alice.profile.db
        .prepare('SELECT distribution_id FROM own_sender_keys', { pluck: true })
        .get();
    const before = distribution();
    expect(
      await distributeSenderKeys(alice.profile, Date.now() + SENDER_KEY_MAX_AGE_MS - 60_000),
    ).toBe(0);
    expect(distribution()).toBe(before);
    expect(
      await distributeSenderKeys(alice.profile, Date.now() + SENDER_KEY_MAX_AGE_MS + 60_000),
    ).toBe(2);
    expect(distribution()).not.toBe(before);
    queueGroupText(alice.profile, group.groupId, 'new chain');
    await settle(all);
    for (const p of [bob, carol])
      expect(bodies(p.profile, group.groupId)).toEqual(['old chain', 'new chain']);
  }, 180_000);
});

function retryRows(profile: Profile): number {
  return Number(profile.db.prepare('SELECT count(*) FROM group_retries', { pluck: true }).get());
}
