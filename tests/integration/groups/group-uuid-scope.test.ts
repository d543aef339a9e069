import { mkdirSync, readdirSync, renameSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { deleteMessages, findContact, queueText } from '../../../electron/core/index.ts';
import { loadGroup, queueGroupText } from '../../../electron/core/groups/index.ts';
import { queueGroupContent } from '../../../electron/core/messaging/outbox.ts';
import { FolderLayout } from '../../../electron/core/sync/folder-layout.ts';
import { type Content, encodeContent } from '../../../shared/protocol/content.ts';
import { aliceBobCarol, groupMessageCount, type Person } from '../../support/group-world.ts';
import { tempDir } from '../../support/profiles.ts';

// A message's identity is (authenticated sender, uuid) (migration 0020,
// docs/threat-model.md#reordering). Every group member sees the ids of group
// messages; Mallory (a member, "Bob" of the group world) copies the id of
// Alice's message into one of her own. A member who gets Mallory's first (a
// relay that reorders, Alice's copy late or retried) must still get Alice's,
// a "Delete for me" of Mallory's copy must not keep Alice's out, and a real
// redelivery (same sender, same id) is still a duplicate.

const receive = (p: Person) => p.engine.receive({ firstWaitMs: 0, idleMs: 0 });

/** Moves everything waiting in `p`'s mailbox aside; the returned function puts it back (the relay delays it). */
function holdBack(relay: string, p: Person): () => void {
  const box = new FolderLayout(relay).mailDir(p.profile.account.accountId, 1);
  const aside = join(tempDir(), 'held');
  mkdirSync(aside);
  const files = readdirSync(box);
  expect(files.length).toBeGreaterThan(0);
  for (const f of files) renameSync(join(box, f), join(aside, f));
  return () => {
    for (const f of files) renameSync(join(aside, f), join(box, f));
  };
}

/** `p` sends `content` to `to` pairwise (a resend, or a forgery `p` signs as itself). */
function sendPairwise(p: Person, to: Person, content: Content): void {
  p.profile.commit(undefined, (db) =>
    queueGroupContent(db, to.profile.account.accountId, content, Date.now()),
  );
}

/** Mallory's next group message, its content swapped for one that carries `id`. */
function forgedGroupText(mallory: Person, groupId: string, id: string, body: string): Content {
  queueGroupText(mallory.profile, groupId, 'placeholder');
  const content: Content = { v: 1, type: 'group-text', groupId, id, sentAt: Date.now(), body };
  mallory.profile.db
    .prepare('UPDATE group_outbox SET payload = ? WHERE payload IS NOT NULL')
    .run([encodeContent(content)]);
  return content;
}

/** Mallory's next 1:1 text to `to`, its content swapped for one that carries `id`. */
function forgedText(mallory: Person, to: Person, id: string, body: string): Content {
  const queued = queueText(mallory.profile, to.profile.account.accountId, 'placeholder');
  const content: Content = { v: 1, type: 'text', id, sentAt: Date.now(), body };
  mallory.profile.db
    .prepare('UPDATE outbox SET payload = ? WHERE message_id = ?')
    .run([encodeContent(content), queued.id]);
  return content;
}

const senderOf = (p: Person, table: string, body: string) =>
  p.profile.db
    .prepare(`SELECT sender_account FROM ${table} WHERE body = ?`, { pluck: true })
    .all<string>([body]);

describe('message ids are scoped by their sender', () => {
  it("a member's message reusing another member's id does not drop the real one; a real redelivery is still a duplicate; receipts reach the real sender's message", async () => {
    const { alice, bob: mallory, carol, group, relay } = await aliceBobCarol('Plans');
    const real = queueGroupText(alice.profile, group.groupId, 'the real one');
    await alice.engine.sendOutbox();
    await receive(mallory);
    expect(groupMessageCount(mallory, group.groupId, 'the real one')).toBe(1);
    // The relay hands Carol Mallory's copy first.
    const release = holdBack(relay, carol);
    const forged = forgedGroupText(mallory, group.groupId, real.uuid, 'from Mallory');
    await mallory.engine.sendOutbox();
    expect((await receive(carol)).stored).toBe(1);
    release();
    const late = await receive(carol);
    expect(late).toMatchObject({ stored: 1, duplicates: 0 });
    expect(groupMessageCount(carol, group.groupId, 'from Mallory')).toBe(1);
    expect(groupMessageCount(carol, group.groupId, 'the real one')).toBe(1);
    expect(senderOf(carol, 'group_messages', 'the real one')).toEqual([
      alice.profile.account.accountId,
    ]);
    expect(senderOf(carol, 'group_messages', 'from Mallory')).toEqual([
      mallory.profile.account.accountId,
    ]);

    // Both senders send their message again (a retry answer, a resend): the same sender and id is a duplicate.
    sendPairwise(alice, carol, {
      v: 1,
      type: 'group-text',
      groupId: group.groupId,
      id: real.uuid,
      sentAt: real.sentAt,
      body: 'the real one',
    });
    sendPairwise(mallory, carol, forged);
    await alice.engine.sendOutbox();
    await mallory.engine.sendOutbox();
    expect(await receive(carol)).toMatchObject({ stored: 0, duplicates: 2 });
    expect(groupMessageCount(carol, group.groupId, 'the real one')).toBe(1);
    expect(groupMessageCount(carol, group.groupId, 'from Mallory')).toBe(1);

    // Carol's receipt names the id; Alice applies it to her own message, not to Mallory's copy she holds.
    // Receipts wait a random 1-10 s: made due now.
    carol.profile.db.prepare("UPDATE outbox SET next_attempt_at = 0 WHERE kind = 'receipt'").run();
    await carol.engine.sendOutbox();
    await receive(alice);
    const aliceGroup = loadGroup(alice.profile.db, group.groupId)!;
    expect(groupMessageCount(alice, group.groupId, 'from Mallory')).toBe(1);
    const delivered = alice.profile.db
      .prepare(
        `SELECT r.account_id FROM group_receipts r JOIN group_messages m ON m.id = r.message_id
         WHERE m.uuid = ? AND m.outgoing = 1 AND m.group_ref = ? AND r.delivered_at IS NOT NULL`,
        { pluck: true },
      )
      .all<string>([real.uuid, aliceGroup.ref]);
    expect(delivered).toContain(carol.profile.account.accountId);
  }, 120_000);

  it("deleting Mallory's copies (group and 1:1) keeps only hers out: Alice's group message and 1:1 message with the same ids still arrive", async () => {
    const {
      alice,
      bob: mallory,
      carol,
      group,
      relay,
    } = await aliceBobCarol('Plans', {
      bobKnowsCarol: true,
    });
    const real = queueGroupText(alice.profile, group.groupId, 'the real one');
    const direct = queueText(alice.profile, carol.profile.account.accountId, 'real and direct');
    await alice.engine.sendOutbox();
    await receive(mallory);
    const release = holdBack(relay, carol);
    // Mallory reuses the group id in a group message and in a 1:1 one, and the 1:1 id in a group message.
    const copies = [
      forgedGroupText(mallory, group.groupId, real.uuid, 'group copy'),
      forgedText(mallory, carol, real.uuid, 'direct copy'),
    ];
    await mallory.engine.sendOutbox();
    const crossed = forgedGroupText(mallory, group.groupId, direct.uuid, 'crossed copy');
    await mallory.engine.sendOutbox();
    await receive(carol);
    expect(groupMessageCount(carol, group.groupId, 'group copy')).toBe(1);
    expect(groupMessageCount(carol, group.groupId, 'crossed copy')).toBe(1);
    const withMallory = findContact(carol.profile.db, 'Bob').conversationId;
    const copyIds = (table: string, body: string) =>
      carol.profile.db
        .prepare(`SELECT id FROM ${table} WHERE body = ?`, { pluck: true })
        .all<number>([body]);
    const carolGroup = loadGroup(carol.profile.db, group.groupId)!;
    await deleteMessages(carol.profile, { groupRef: carolGroup.ref }, [
      ...copyIds('group_messages', 'group copy'),
      ...copyIds('group_messages', 'crossed copy'),
    ]);
    await deleteMessages(
      carol.profile,
      { conversationId: withMallory },
      copyIds('messages', 'direct copy'),
    );

    release();
    expect(await receive(carol)).toMatchObject({ stored: 2, duplicates: 0 });
    expect(groupMessageCount(carol, group.groupId, 'the real one')).toBe(1);
    expect(senderOf(carol, 'messages', 'real and direct')).toEqual([
      alice.profile.account.accountId,
    ]);

    // Mallory's copies, sent again, stay deleted.
    for (const copy of [...copies, crossed]) sendPairwise(mallory, carol, copy);
    await mallory.engine.sendOutbox();
    expect(await receive(carol)).toMatchObject({ stored: 0, duplicates: 3 });
    for (const body of ['group copy', 'crossed copy', 'direct copy'])
      expect(senderOf(carol, 'group_messages', body)).toEqual([]);
    expect(senderOf(carol, 'messages', 'direct copy')).toEqual([]);
  }, 120_000);
});
