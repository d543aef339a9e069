import { randomUUID } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import {
  groupMessagesPage,
  groupUnread,
  loadGroup,
  markGroupRead,
  queueGroupText,
  totalGroupUnread,
} from '../../../electron/core/groups/index.ts';
import { Profile } from '../../../electron/core/profile/profile.ts';
import type { Sql } from '../../../electron/core/db/sqlite.ts';
import { aliceAndBob, aliceBobCarol, settle } from '../../support/group-world.ts';

// Group read markers (migration 0012) and keyset paging of group history,
// over real profiles and a folder relay: unread counts survive closing and
// reopening the profile, and a 10,000-message group pages like a 1:1 one.

function refOf(profile: Profile, groupId: string): number {
  const group = loadGroup(profile.db, groupId);
  if (!group) throw new Error('no group');
  return group.ref;
}

describe('group read markers', () => {
  it('count only incoming messages after the marker, and survive a restart', async () => {
    const { alice, bob, carol, group } = await aliceBobCarol('Hikers');
    const { groupId } = group;
    const ref = refOf(bob.profile, groupId);
    expect(groupUnread(bob.profile.db, ref)).toBe(0);

    queueGroupText(alice.profile, groupId, 'one');
    queueGroupText(alice.profile, groupId, 'two');
    queueGroupText(carol.profile, groupId, 'three');
    await settle([alice, bob, carol]);
    expect(groupUnread(bob.profile.db, ref)).toBe(3);
    expect(totalGroupUnread(bob.profile.db)).toBe(3);

    bob.profile.commit(undefined, (db) => markGroupRead(db, ref));
    expect(groupUnread(bob.profile.db, ref)).toBe(0);
    // Our own messages never count; the next incoming one does.
    queueGroupText(bob.profile, groupId, 'mine');
    queueGroupText(alice.profile, groupId, 'four');
    await settle([alice, bob, carol]);
    expect(groupUnread(bob.profile.db, ref)).toBe(1);

    await bob.engine.close();
    await bob.profile.close();
    const reopened = await Profile.open(bob.dir, { passphrase: bob.passphrase });
    try {
      expect(groupUnread(reopened.db, ref)).toBe(1);
      expect(totalGroupUnread(reopened.db)).toBe(1);
      reopened.commit(undefined, (db) => markGroupRead(db, ref));
      expect(groupUnread(reopened.db, ref)).toBe(0);
      // The marker never moves back: marking an already read group read changes nothing.
      reopened.commit(undefined, (db) => markGroupRead(db, ref));
      expect(readThrough(reopened.db, ref)).toBeGreaterThan(0);
    } finally {
      await reopened.close();
    }
  });
});

function readThrough(db: Sql, ref: number): number {
  return (
    db
      .prepare('SELECT read_through FROM groups WHERE id = ?', { pluck: true })
      .get<number>([ref]) ?? -1
  );
}

/** Stores `count` incoming messages in group `ref` at once (history as a long-lived group leaves it). */
function fillHistory(db: Sql, ref: number, sender: string, count: number): void {
  const insert = db.prepare(
    `INSERT INTO group_messages (uuid, group_ref, outgoing, sender_account, sender_device, sent_at, received_at, body, status)
     VALUES (?, ?, 0, ?, ?, ?, ?, ?, 'received')`,
  );
  db.transaction(() => {
    // Every tenth pair shares a sent_at (from two devices): the id breaks the tie, as the cursor does.
    for (let i = 0; i < count; i++) {
      const tie = i % 10 === 1;
      insert.run([
        randomUUID(),
        ref,
        sender,
        tie ? 2 : 1,
        1_000_000 + i - (tie ? 1 : 0),
        1,
        `message ${i}`,
      ]);
    }
  })();
}

describe('group history paging', () => {
  it('pages a 10,000-message group through the index, every message once, in order', async () => {
    const { alice, bob, group } = await aliceAndBob('Archive');
    const { groupId } = group;
    const ref = refOf(bob.profile, groupId);
    fillHistory(bob.profile.db, ref, alice.profile.account.accountId, 10_000);

    const seen: string[] = [];
    let page = groupMessagesPage(bob.profile.db, ref, 500);
    expect(page[0]?.body).toBe('message 9999');
    while (page.length > 0) {
      seen.push(...page.map((m) => m.body));
      const last = page.at(-1)!;
      page = groupMessagesPage(bob.profile.db, ref, 500, { sentAt: last.sentAt, id: last.id });
    }
    expect(seen).toHaveLength(10_000);
    expect(new Set(seen).size).toBe(10_000);
    expect(seen.at(-1)).toBe('message 0');
    // Newest first by (sentAt, id): the tie pairs come out in id order too.
    expect(seen.slice(-3)).toEqual(['message 2', 'message 1', 'message 0']);

    // A page deep in the history is read through the index, never by sorting the group.
    const plan = bob.profile.db
      .prepare(
        `EXPLAIN QUERY PLAN SELECT m.id FROM group_messages m
         WHERE m.group_ref = ? AND (m.sent_at, m.id) < (?, ?) ORDER BY m.sent_at DESC, m.id DESC LIMIT 50`,
      )
      .all<{ detail: string }>([ref, 1_000_500, 1]);
    const details = plan.map((p) => p.detail).join('\n');
    expect(details).toMatch(/group_messages_by_group/);
    expect(details).not.toMatch(/TEMP B-TREE/);
    // The unread count walks the partial index of incoming rows.
    const unreadPlan = bob.profile.db
      .prepare(
        `EXPLAIN QUERY PLAN SELECT count(*) FROM group_messages
         WHERE group_ref = ? AND outgoing = 0 AND id > 0`,
      )
      .all<{ detail: string }>([ref]);
    expect(unreadPlan.map((p) => p.detail).join('\n')).toMatch(/group_messages_incoming/);
    expect(groupUnread(bob.profile.db, ref)).toBe(10_000);
  });
});
