import { describe, expect, it } from 'vitest';
import { encodeContent } from '../../../shared/protocol/content.ts';
import {
  deleteMessages,
  findContact,
  getMessage,
  listConversations,
  messagesPage,
  processEnvelopes,
  queueText,
  searchMessages,
  type Profile,
} from '../../../electron/core/index.ts';
import { queueMessageContent } from '../../../electron/core/messaging/outbox.ts';
import { rejectedCode } from '../../support/errors.ts';
import { flushOutbox, introduce, newProfile } from '../../support/profiles.ts';

// "Delete for me" of 1:1 messages in the core: rows, search entries, outbox
// entries and the unread count, all or nothing; hostile ids; and a deleted
// message that arrives again stays deleted. (Files and transfers:
// tests/integration/attachments/delete-messages-files.test.ts.)

const bodies = (profile: Profile, conversationId: number) =>
  messagesPage(profile.db, conversationId, 1000)
    .map((m) => m.body)
    .reverse();

const count = (profile: Profile, sql: string) =>
  Number(profile.db.prepare(sql, { pluck: true }).get());

async function pair() {
  const { profile: alice } = await newProfile('Alice');
  const { profile: bob } = await newProfile('Bob');
  await introduce(alice, bob);
  return { alice, bob, toBob: findContact(alice.db, 'Bob').conversationId };
}

/** Alice sends `texts`; Bob receives them. Returns Bob's conversation and the stored ids, in order. */
async function delivered(alice: Profile, bob: Profile, texts: readonly string[]) {
  for (const text of texts) queueText(alice, bob.account.accountId, text);
  const outcomes = await processEnvelopes(bob, await flushOutbox(alice));
  const ids = outcomes.flatMap((o) => (o.outcome === 'stored' ? [o.messageId] : []));
  return { conversationId: findContact(bob.db, 'Alice').conversationId, ids };
}

describe('delete for me (1:1)', () => {
  it('removes the rows and their search entries, keeps the rest, and the preview moves to what stayed', async () => {
    const { alice, bob } = await pair();
    const { conversationId, ids } = await delivered(alice, bob, [
      'keep the pineapple',
      'delete the pineapple',
      'delete this one too',
    ]);
    expect(searchMessages(bob.db, 'pineapple')).toHaveLength(2);
    const result = await deleteMessages(bob, { conversationId }, [ids[2]!, ids[1]!]);
    expect(result.messageIds.sort()).toEqual([ids[1], ids[2]].sort());
    expect(bodies(bob, conversationId)).toEqual(['keep the pineapple']);
    expect(searchMessages(bob.db, 'pineapple').map((m) => m.id)).toEqual([ids[0]]);
    expect(searchMessages(bob.db, 'too')).toEqual([]);
    expect(listConversations(bob.db)[0]?.lastMessagePreview).toBe('keep the pineapple');
    // The index stays consistent with its content table (an FTS delete of a wrong row corrupts it).
    bob.db.exec("INSERT INTO messages_fts(messages_fts) VALUES ('integrity-check')");
  });

  it('deleted unread messages stop counting as unread; read ones leave the count alone', async () => {
    const { alice, bob } = await pair();
    const { conversationId, ids } = await delivered(alice, bob, ['one', 'two', 'three']);
    expect(listConversations(bob.db)[0]?.unreadCount).toBe(3);
    await deleteMessages(bob, { conversationId }, [ids[2]!]);
    expect(listConversations(bob.db)[0]?.unreadCount).toBe(2);
    bob.db.prepare('UPDATE conversations SET unread_count = 0').run();
    const later = await delivered(alice, bob, ['four']);
    await deleteMessages(bob, { conversationId }, [ids[0]!]);
    expect(listConversations(bob.db)[0]?.unreadCount).toBe(1);
    await deleteMessages(bob, { conversationId }, later.ids);
    expect(listConversations(bob.db)[0]?.unreadCount).toBe(0);
  });

  it('hostile ids: unknown and another conversation’s look the same, and nothing at all is deleted', async () => {
    const { alice, bob } = await pair();
    const { profile: carol } = await newProfile('Carol');
    await introduce(carol, bob, 1);
    const { conversationId, ids } = await delivered(alice, bob, ['from alice']);
    const fromCarol = await delivered(carol, bob, ['from carol']);
    const mine = ids[0]!;
    const theirs = fromCarol.ids[0]!;
    const scope = { conversationId };
    expect(await rejectedCode(() => deleteMessages(bob, scope, [mine, theirs]))).toBe(
      'UNKNOWN_MESSAGE',
    );
    expect(await rejectedCode(() => deleteMessages(bob, scope, [mine, 999_999]))).toBe(
      'UNKNOWN_MESSAGE',
    );
    // A group scope does not reach 1:1 rows either.
    expect(await rejectedCode(() => deleteMessages(bob, { groupRef: 1 }, [mine]))).toBe(
      'UNKNOWN_MESSAGE',
    );
    for (const bad of [[], [mine, mine], [1.5], [-1], [0], [Number.NaN], Array(501).fill(mine)])
      expect(await rejectedCode(() => deleteMessages(bob, scope, bad))).toBe('INVALID_INPUT');
    expect(getMessage(bob.db, mine)?.body).toBe('from alice');
    expect(getMessage(bob.db, theirs)?.body).toBe('from carol');
    // 500 is the bound, not 499: a full selection of existing ids goes.
    const many = await delivered(
      alice,
      bob,
      Array.from({ length: 499 }, (_, i) => `bulk ${i}`),
    );
    expect((await deleteMessages(bob, scope, [mine, ...many.ids])).messageIds).toHaveLength(500);
    expect(
      count(bob, `SELECT count(*) FROM messages WHERE conversation_id = ${conversationId}`),
    ).toBe(0);
  });

  it('a queued message deleted before it was sent is never sent', async () => {
    const { alice, bob, toBob } = await pair();
    const kept = queueText(alice, bob.account.accountId, 'this goes');
    const gone = queueText(alice, bob.account.accountId, 'this never leaves');
    expect(count(alice, 'SELECT count(*) FROM outbox')).toBe(2);
    await deleteMessages(alice, { conversationId: toBob }, [gone.id]);
    expect(count(alice, 'SELECT count(*) FROM outbox')).toBe(1);
    await processEnvelopes(bob, await flushOutbox(alice));
    expect(bodies(bob, findContact(bob.db, 'Alice').conversationId)).toEqual(['this goes']);
    expect(getMessage(alice.db, kept.id)?.status).not.toBe('queued');
  });

  it('a deleted message that arrives again stays deleted: the same envelope, and a resend under a new envelope id', async () => {
    const { alice, bob } = await pair();
    queueText(alice, bob.account.accountId, 'say it once');
    const sent = messagesPage(alice.db, findContact(alice.db, 'Bob').conversationId, 1)[0]!;
    const envelopes = await flushOutbox(alice);
    const outcomes = await processEnvelopes(bob, envelopes);
    const stored = outcomes.flatMap((o) => (o.outcome === 'stored' ? [o] : []));
    const conversationId = stored[0]!.conversationId;
    await deleteMessages(bob, { conversationId }, [stored[0]!.messageId]);

    // The relay delivers the same envelope again.
    expect((await processEnvelopes(bob, envelopes)).map((o) => o.outcome)).toEqual(['duplicate']);
    // Alice's device sends the same message again: new ciphertext, new envelope id, same uuid.
    const again = encodeContent({
      v: 1,
      type: 'text',
      id: sent.uuid,
      sentAt: sent.sentAt,
      body: 'say it once',
    });
    alice.commit(undefined, (db) =>
      queueMessageContent(db, bob.account.accountId, again, sent.id, Date.now()),
    );
    const resent = await flushOutbox(alice);
    expect(resent.map((e) => e.id)).not.toContain(envelopes[0]!.id);
    expect((await processEnvelopes(bob, resent)).map((o) => o.outcome)).toContain('duplicate');
    expect(bodies(bob, conversationId)).toEqual([]);
    expect(searchMessages(bob.db, 'once')).toEqual([]);
    // A new message of Alice's still arrives.
    const next = await delivered(alice, bob, ['something new']);
    expect(bodies(bob, next.conversationId)).toEqual(['something new']);
  });

  it('two deletes of the same messages at once: one deletes them, the other finds them gone', async () => {
    const { alice, bob } = await pair();
    const { conversationId, ids } = await delivered(alice, bob, ['twice', 'clicked']);
    const [first, second] = await Promise.all([
      deleteMessages(bob, { conversationId }, ids),
      deleteMessages(bob, { conversationId }, ids),
    ]);
    expect([first.messageIds.length, second.messageIds.length].sort()).toEqual([0, 2]);
    expect(bodies(bob, conversationId)).toEqual([]);
    expect(await rejectedCode(() => deleteMessages(bob, { conversationId }, ids))).toBe(
      'UNKNOWN_MESSAGE',
    );
  });
});
