import { describe, expect, it } from 'vitest';
import { retryGroupMessage } from '../../../electron/core/groups/group-resend.ts';
import { leaveGroup } from '../../../electron/core/groups/group-ops.ts';
import { queueGroupText } from '../../../electron/core/groups/group-queue.ts';
import { thrownCode } from '../../support/errors.ts';
import { aliceBobCarol, groupMessageCount, settle } from '../../support/group-world.ts';

// Retry of a failed outgoing group message (groups:retry, the app's Retry):
// the same message goes out again and every member has it exactly once;
// anything that is not one of our failed group messages is refused.

describe('retrying a failed group message', () => {
  it('queues it again: each member receives it once; a second retry is refused', async () => {
    const { alice, bob, carol, all, group } = await aliceBobCarol('Retry');
    const queued = queueGroupText(alice.profile, group.groupId, 'refused by the relay');
    // What a send that the relay kept refusing leaves: the message failed, no outbox row.
    alice.profile.commit(undefined, (db) => {
      db.prepare('DELETE FROM group_outbox WHERE message_id = ?').run([queued.id]);
      db.prepare("UPDATE group_messages SET status = 'failed' WHERE id = ?").run([queued.id]);
    });
    await settle(all);
    for (const p of [bob, carol])
      expect(groupMessageCount(p, group.groupId, 'refused by the relay')).toBe(0);

    expect(retryGroupMessage(alice.profile, queued.id)).toBe(queued.groupRef);
    expect(thrownCode(() => retryGroupMessage(alice.profile, queued.id))).toBe('INVALID_INPUT');
    await settle(all);
    for (const p of [bob, carol])
      expect(groupMessageCount(p, group.groupId, 'refused by the relay')).toBe(1);
    const status = alice.profile.db
      .prepare('SELECT status FROM group_messages WHERE id = ?', { pluck: true })
      .get([queued.id]);
    expect(['sent', 'delivered']).toContain(status);
  }, 300_000);

  it("refuses a received message, another member's, an unknown id, and a group we left", async () => {
    const { alice, bob, all, group } = await aliceBobCarol('Refusals');
    queueGroupText(bob.profile, group.groupId, 'from Bob');
    await settle(all);
    const received = alice.profile.db
      .prepare("SELECT id FROM group_messages WHERE body = 'from Bob'", { pluck: true })
      .get<number>()!;
    // Even marked failed, a message Bob wrote is not Alice's to resend.
    alice.profile.commit(undefined, (db) =>
      db.prepare("UPDATE group_messages SET status = 'failed' WHERE id = ?").run([received]),
    );
    expect(thrownCode(() => retryGroupMessage(alice.profile, received))).toBe('INVALID_INPUT');
    expect(thrownCode(() => retryGroupMessage(alice.profile, 987_654))).toBe('INVALID_INPUT');

    const mine = queueGroupText(bob.profile, group.groupId, 'never sent');
    bob.profile.commit(undefined, (db) => {
      db.prepare('DELETE FROM group_outbox WHERE message_id = ?').run([mine.id]);
      db.prepare("UPDATE group_messages SET status = 'failed' WHERE id = ?").run([mine.id]);
    });
    await leaveGroup(bob.profile, group.groupId);
    expect(thrownCode(() => retryGroupMessage(bob.profile, mine.id))).toBe('NOT_GROUP_MEMBER');
    const status = bob.profile.db
      .prepare('SELECT status FROM group_messages WHERE id = ?', { pluck: true })
      .get([mine.id]);
    expect(status).toBe('failed');
  }, 300_000);
});
