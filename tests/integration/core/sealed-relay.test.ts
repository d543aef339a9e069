import { randomBytes, randomUUID } from 'node:crypto';
import { join } from 'node:path';
import Database from '@signalapp/sqlcipher';
import { describe, expect, it } from 'vitest';
import {
  addContact,
  blockContact,
  encryptQueued,
  getContact,
  getMessage,
  messagesPage,
  type Profile,
  queueText,
  readyEnvelopes,
} from '../../../electron/core/index.ts';
import { nextDueAt, RECEIPT_DELAY_MS } from '../../../electron/core/messaging/outbox.ts';
import { befriend, enginePerson, relayProcessForTest } from '../../support/engines.ts';
import { cardOf, tempDir } from '../../support/profiles.ts';
import { honestCertificate, sealWith } from '../../support/sealing.ts';

// Sealed sender and delivery tokens against a real `sotto-relay` process over
// loopback sockets: what the relay refuses, what it stores, and what the
// receiving core does with what gets through.

const relayProcess = relayProcessForTest;
const person = enginePerson;

function bodiesFrom(at: Profile, from: Profile): string[] {
  const conversation = getContact(at.db, from.account.accountId).conversationId;
  return messagesPage(at.db, conversation, 100)
    .map((m) => m.body)
    .reverse();
}

describe('sealed sender and delivery tokens through a real relay', () => {
  it('a stranger with a valid certificate but without the token cannot deliver: the relay refuses, nothing is stored', async () => {
    const { relay } = await relayProcess();
    const bob = await person('Bob', relay.url);
    const mallory = await person('Mallory', relay.url);
    // Mallory knows Bob's id, key and relay, but guesses the token.
    addContact(mallory.profile, { ...cardOf(bob.profile, relay.url), token: randomBytes(16) });
    queueText(mallory.profile, bob.profile.account.accountId, 'let me in');
    const report = await mallory.engine.sendOutbox();
    expect(report.sent).toBe(0);
    // Not even a bundle: the fetch needs the token too. The entry waits (a rotation may be under way).
    expect(mallory.profile.db.prepare('SELECT status FROM messages', { pluck: true }).get()).toBe(
      'queued',
    );
    expect(await bob.engine.receive({ firstWaitMs: 500 })).toMatchObject({
      stored: 0,
      rejected: 0,
    });
    // A sealed envelope submitted directly with a wrong token is refused too.
    const submission = {
      clientMessageId: randomUUID(),
      recipient: bob.profile.account.accountId,
      recipientDevice: 1,
      token: randomBytes(16),
      body: randomBytes(200),
    };
    expect(await mallory.engine.pool.get(relay.url, null).sendBatch([submission])).toEqual([
      'RELAY_ERR_BAD_TOKEN',
    ]);
  });

  it('blocking rotates the token at the relay: the blocked contact is cut off, another contact keeps writing after receiving the new token', async () => {
    const { relay } = await relayProcess();
    const alice = await person('Alice', relay.url);
    const bob = await person('Bob', relay.url);
    const carol = await person('Carol', relay.url);
    befriend(alice, bob);
    befriend(carol, bob);

    blockContact(bob.profile, alice.profile.account.accountId);
    expect((await bob.engine.sendOutbox()).sent).toBe(1); // registers the new token first, then tells Carol
    expect(await carol.engine.receive({ firstWaitMs: 5_000 })).toMatchObject({ stored: 0 });

    queueText(alice.profile, bob.profile.account.accountId, 'from blocked Alice');
    queueText(carol.profile, bob.profile.account.accountId, 'from Carol, with the new token');
    expect((await alice.engine.sendOutbox()).sent).toBe(0);
    expect((await carol.engine.sendOutbox()).sent).toBe(1);
    expect(await bob.engine.receive({ firstWaitMs: 5_000 })).toMatchObject({
      stored: 1,
      rejected: 0,
    });
    expect(bodiesFrom(bob.profile, carol.profile)).toEqual(['from Carol, with the new token']);
    expect(bodiesFrom(bob.profile, alice.profile)).toEqual([]);
    // Alice's message is not failed at once: a refused token waits for a possible new one.
    expect(alice.profile.db.prepare('SELECT status FROM messages', { pluck: true }).get()).toBe(
      'queued',
    );
  });

  it.each([
    ['a relay process', async () => (await relayProcess()).relay.url],
    ['a folder relay', () => Promise.resolve(tempDir('sotto-folder-relay-'))],
  ])(
    'through %s, a contact who turned hostile forges a certificate for another contact: refused by the receiver, acked',
    async (_kind, start) => {
      const address = await start();
      const alice = await person('Alice', address);
      const bob = await person('Bob', address);
      const mallory = await person('Mallory', address);
      befriend(alice, bob);
      befriend(mallory, bob); // Mallory holds Bob's token legitimately
      queueText(mallory.profile, bob.profile.account.accountId, 'hello, friend');
      expect((await mallory.engine.sendOutbox()).sent).toBe(1);
      expect(await bob.engine.receive({ firstWaitMs: 5_000 })).toMatchObject({ stored: 1 });

      // Now she claims to be Alice, with her own key (the only key she can seal with).
      queueText(mallory.profile, bob.profile.account.accountId, 'hi Bob, it is Alice');
      await encryptQueued(mallory.profile);
      const [inner] = readyEnvelopes(mallory.profile, 1);
      const forged = await sealWith(mallory.profile.account.identity, bob.profile, inner!, {
        ...honestCertificate(mallory.profile.account.identity, mallory.profile.account.accountId),
        claim: alice.profile.account.accountId,
      });
      const token = Uint8Array.from(
        mallory.profile.db
          .prepare('SELECT delivery_token FROM contacts WHERE account_id = ?', { pluck: true })
          .get<Uint8Array<ArrayBuffer>>([bob.profile.account.accountId])!,
      );
      const submission = {
        clientMessageId: randomUUID(),
        recipient: bob.profile.account.accountId,
        recipientDevice: 1,
        token,
        body: forged,
      };
      const route = mallory.profile.db
        .prepare('SELECT relay, relay_id FROM contacts WHERE account_id = ?')
        .get<{ relay: string; relay_id: string }>([bob.profile.account.accountId])!;
      expect(
        await mallory.engine.pool.get(route.relay, route.relay_id).sendBatch([submission]),
      ).toEqual([undefined]);

      expect(await bob.engine.receive({ firstWaitMs: 5_000 })).toMatchObject({
        stored: 0,
        rejected: 1,
      });
      expect(bodiesFrom(bob.profile, alice.profile)).toEqual([]);
      // Acked: the relay does not deliver it again.
      expect(await bob.engine.receive({ firstWaitMs: 1_000 })).toMatchObject({
        stored: 0,
        rejected: 0,
        duplicates: 0,
      });
    },
  );

  it('automatic receipts leave only after their random 1-10 s delay, then mark the message delivered', async () => {
    const { relay } = await relayProcess();
    const alice = await person('Alice', relay.url);
    const bob = await person('Bob', relay.url);
    befriend(alice, bob);
    const { id } = queueText(
      alice.profile,
      bob.profile.account.accountId,
      'ack me, but not at once',
    );
    await alice.engine.sendOutbox();
    const received = Date.now();
    expect(await bob.engine.receive({ firstWaitMs: 5_000 })).toMatchObject({ stored: 1 });
    expect((await bob.engine.sendOutbox('receipts')).sent).toBe(0);
    const due = nextDueAt(bob.profile, 'receipts')!;
    expect(due - received).toBeGreaterThanOrEqual(RECEIPT_DELAY_MS.min);
    expect(due - received).toBeLessThanOrEqual(RECEIPT_DELAY_MS.max + 5_000);
    await new Promise((resolve) => setTimeout(resolve, Math.max(0, due - Date.now()) + 10));
    expect((await bob.engine.sendOutbox('receipts')).sent).toBe(1);
    expect(await alice.engine.receive({ firstWaitMs: 5_000 })).toMatchObject({ receipts: 1 });
    expect(getMessage(alice.profile.db, id)?.status).toBe('delivered');
  });

  it("on a relay both use, no envelope row names its sender; the relay's output names no account", async () => {
    const { relay, data } = await relayProcess();
    const alice = await person('Alice', relay.url);
    const bob = await person('Bob', relay.url);
    befriend(alice, bob);
    for (let i = 0; i < 3; i++)
      queueText(alice.profile, bob.profile.account.accountId, `message ${i}`);
    expect((await alice.engine.sendOutbox()).sent).toBe(3);

    // Read while the envelopes are still queued for Bob.
    const db = new Database(join(data, 'relay.db'));
    const rows = db
      .prepare('SELECT * FROM envelopes')
      .all<Record<string, string | number | Uint8Array<ArrayBuffer> | null>>();
    db.close();
    expect(rows).toHaveLength(3);
    const aliceId = alice.profile.account.accountId;
    const aliceRaw = Buffer.from(aliceId.replaceAll('-', ''), 'hex');
    const aliceKey = Buffer.from(alice.profile.account.identity.publicKey.serialize());
    for (const row of rows) {
      expect(row['recipient']).toBe(bob.profile.account.accountId);
      for (const value of Object.values(row)) {
        const bytes = value instanceof Uint8Array ? Buffer.from(value) : Buffer.from(String(value));
        expect(
          bytes.includes(aliceId) || bytes.includes(aliceRaw) || bytes.includes(aliceKey),
        ).toBe(false);
      }
    }
    expect(await bob.engine.receive({ firstWaitMs: 5_000 })).toMatchObject({ stored: 3 });
    for (const id of [aliceId, bob.profile.account.accountId])
      expect(relay.output()).not.toContain(id);
  });
});
