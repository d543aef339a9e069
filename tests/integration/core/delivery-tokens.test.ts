import { describe, expect, it } from 'vitest';
import {
  addContact,
  blockContact,
  bundleRequestsNeeded,
  encryptQueued,
  getContact,
  markTokenRegistered,
  messagesPage,
  ownDeliveryToken,
  processEnvelopes,
  publishedKeys,
  queueText,
  recordRefusal,
  sealReady,
  startSession,
  tokenToRegister,
  unblockContact,
  type Profile,
} from '../../../electron/core/index.ts';
import {
  MAX_SEND_REFUSALS,
  nextDueAt,
  RECEIPT_DELAY_MS,
} from '../../../electron/core/messaging/outbox.ts';
import { TOKEN_GRACE_MS } from '../../../electron/core/messaging/refusals.ts';
import { takeBundle } from '../../../shared/protocol/keys.ts';
import { setSetting } from '../../../electron/core/profile/settings.ts';
import { thrownCode } from '../../support/errors.ts';
import {
  cardOf,
  flushOutbox,
  introduce,
  newProfile,
  TEST_RELAY,
  TEST_RELAY_ID,
} from '../../support/profiles.ts';

const HOME = 'wss://home.test.invalid';

function tokenOf(holder: Profile, contact: Profile): string {
  const row = holder.db
    .prepare('SELECT delivery_token FROM contacts WHERE account_id = ?', { pluck: true })
    .get<Uint8Array<ArrayBuffer>>([contact.account.accountId]);
  return Buffer.from(row!).toString('hex');
}

function hex(token: Uint8Array): string {
  return Buffer.from(token).toString('hex');
}

/** Bob with two contacts who both write to him and he to them. */
async function triangle() {
  const { profile: alice } = await newProfile('Alice');
  const { profile: bob } = await newProfile('Bob');
  const { profile: carol } = await newProfile('Carol');
  await introduce(alice, bob, 0);
  await introduce(carol, bob, 1);
  await introduce(bob, alice, 0);
  await introduce(bob, carol, 0);
  return { alice, bob, carol };
}

describe("this account's delivery token", () => {
  it('exists from creation, is registered once per relay, and a rotation makes it pending again', async () => {
    const { profile } = await newProfile('Alice');
    const token = ownDeliveryToken(profile);
    expect(token).toHaveLength(16);
    expect(hex(tokenToRegister(profile, HOME)!)).toBe(hex(token));
    markTokenRegistered(profile, HOME, token);
    expect(tokenToRegister(profile, HOME)).toBeUndefined();
    // Another relay (the user changed it) has not seen it.
    expect(hex(tokenToRegister(profile, 'wss://other.test.invalid')!)).toBe(hex(token));
    const { profile: bob } = await newProfile('Bob');
    await introduce(profile, bob);
    blockContact(profile, bob.account.accountId);
    const rotated = tokenToRegister(profile, HOME)!;
    expect(hex(rotated)).not.toBe(hex(token));
    // A registration of the old token that completes late does not mark the new one registered.
    markTokenRegistered(profile, HOME, token);
    expect(hex(tokenToRegister(profile, HOME)!)).toBe(hex(rotated));
  });

  it('every sealed submission and bundle request carries the recipient token from their invite', async () => {
    const { alice, bob } = await triangle();
    queueText(alice, bob.account.accountId, 'hi');
    await encryptQueued(alice);
    const [ready] = await sealReady(alice, 10, 'all', []);
    expect(hex(ready!.submission.token)).toBe(hex(ownDeliveryToken(bob)));
    expect(ready!.submission.recipient).toBe(bob.account.accountId);
    // A new contact without a session: the bundle is fetched from their relay, with their token.
    const { profile: dave } = await newProfile('Dave');
    addContact(alice, cardOf(dave, 'wss://dave.test.invalid'));
    queueText(alice, dave.account.accountId, 'first');
    expect(bundleRequestsNeeded(alice)).toEqual([
      {
        relay: 'wss://dave.test.invalid',
        relayId: TEST_RELAY_ID,
        request: { accountId: dave.account.accountId, deviceId: 1, token: ownDeliveryToken(dave) },
      },
    ]);
  });
});

describe('blocking rotates the token and cuts off only the blocked contact', () => {
  it('the others learn the new token in an encrypted message; the blocked one keeps the dead one', async () => {
    const { alice, bob, carol } = await triangle();
    const before = hex(ownDeliveryToken(bob));
    const blocked = blockContact(bob, alice.account.accountId);
    expect(blocked.blocked).toBe(true);
    const after = hex(ownDeliveryToken(bob));
    expect(after).not.toBe(before);

    // Only Carol is sent the token (as an Implicit-hint control message).
    const envelopes = await flushOutbox(bob);
    expect(envelopes).toHaveLength(1);
    expect((await processEnvelopes(carol, envelopes)).map((o) => o.outcome)).toEqual(['control']);
    expect(tokenOf(carol, bob)).toBe(after);
    expect(tokenOf(alice, bob)).toBe(before);

    // Carol keeps writing with the new token; Alice's sends carry the old one (her relay refuses them).
    queueText(carol, bob.account.accountId, 'still here');
    await encryptQueued(carol);
    expect(hex((await sealReady(carol, 10, 'all', []))[0]!.submission.token)).toBe(after);
    queueText(alice, bob.account.accountId, 'let me in');
    await encryptQueued(alice);
    expect(hex((await sealReady(alice, 10, 'all', []))[0]!.submission.token)).toBe(before);
  });

  it('what a blocked contact sent anyway is dropped, acked and counted; sending to them is refused', async () => {
    const { alice, bob } = await triangle();
    queueText(alice, bob.account.accountId, 'written before the block');
    const envelopes = await flushOutbox(alice);
    blockContact(bob, alice.account.accountId);
    const outcomes = await processEnvelopes(bob, envelopes);
    expect(outcomes).toEqual([
      expect.objectContaining({ outcome: 'rejected', error: 'BLOCKED_SENDER' }),
    ]);
    const conversation = getContact(bob.db, alice.account.accountId).conversationId;
    expect(messagesPage(bob.db, conversation, 10)).toEqual([]);
    expect(thrownCode(() => queueText(bob, alice.account.accountId, 'hello?'))).toBe(
      'CONTACT_BLOCKED',
    );
  });

  it('unblocking sends the blocked contact the current token', async () => {
    const { alice, bob } = await triangle();
    blockContact(bob, alice.account.accountId);
    await flushOutbox(bob); // the token for Carol
    expect(unblockContact(bob, alice.account.accountId).blocked).toBe(false);
    const envelopes = await flushOutbox(bob);
    expect((await processEnvelopes(alice, envelopes)).map((o) => o.outcome)).toEqual(['control']);
    expect(tokenOf(alice, bob)).toBe(hex(ownDeliveryToken(bob)));
  });

  it('a token rotation delivered late never replaces a newer one', async () => {
    const { alice, bob, carol } = await triangle();
    blockContact(bob, alice.account.accountId);
    const first = await flushOutbox(bob);
    unblockContact(bob, alice.account.accountId);
    await flushOutbox(bob);
    blockContact(bob, alice.account.accountId);
    const second = await flushOutbox(bob);
    await processEnvelopes(carol, second);
    await processEnvelopes(carol, first);
    expect(tokenOf(carol, bob)).toBe(hex(ownDeliveryToken(bob)));
  });
});

describe('relay refusals', () => {
  async function refusedEntry() {
    const { alice, bob, carol } = await triangle();
    queueText(alice, bob.account.accountId, 'refused');
    await encryptQueued(alice);
    const [ready] = await sealReady(alice, 10, 'all', []);
    return { alice, bob, carol, outboxId: ready!.outboxId };
  }

  it('BAD_TOKEN right after a rotation waits and retries instead of failing, for a bounded time', async () => {
    const { alice, outboxId } = await refusedEntry();
    const t0 = Date.now();
    for (let i = 0; i < MAX_SEND_REFUSALS + 3; i++) {
      expect(recordRefusal(alice, [outboxId], 'RELAY_ERR_BAD_TOKEN', t0 + i * 60_000)).toEqual([]);
    }
    // It waits (not due now), but is not failed.
    expect(await sealReady(alice, 10, 'all', [], t0 + 8 * 60_000)).toEqual([]);
    expect(alice.db.prepare('SELECT status FROM messages', { pluck: true }).get()).toBe('queued');
    // After the grace period the refusals count like any other.
    let failed: number[] = [];
    for (let i = 0; i < MAX_SEND_REFUSALS && failed.length === 0; i++) {
      failed = recordRefusal(alice, [outboxId], 'RELAY_ERR_BAD_TOKEN', t0 + TOKEN_GRACE_MS + i);
    }
    expect(failed).toHaveLength(1);
    expect(alice.db.prepare('SELECT status FROM messages', { pluck: true }).get()).toBe('failed');
  });

  it("the contact's new token makes a waiting entry due again at once, with the new token", async () => {
    const { alice, bob, carol, outboxId } = await refusedEntry();
    // Bob blocked Carol and rotated; Alice's relay submission was refused with the old token.
    blockContact(bob, carol.account.accountId);
    recordRefusal(alice, [outboxId], 'RELAY_ERR_BAD_TOKEN');
    expect(await sealReady(alice, 10, 'all', [])).toEqual([]);
    expect((await processEnvelopes(alice, await flushOutbox(bob))).map((o) => o.outcome)).toEqual([
      'control',
    ]);
    const [again] = await sealReady(alice, 10, 'all', []);
    expect(again?.outboxId).toBe(outboxId);
    expect(hex(again!.submission.token)).toBe(hex(ownDeliveryToken(bob)));
  });

  it('try-later refusals are never counted; other refusals fail the message after MAX_SEND_REFUSALS', async () => {
    const { alice, outboxId } = await refusedEntry();
    for (let i = 0; i < 10; i++)
      expect(recordRefusal(alice, [outboxId], 'RELAY_ERR_OVER_BUDGET')).toEqual([]);
    expect(alice.db.prepare('SELECT attempts FROM outbox', { pluck: true }).get()).toBe(0);
    const failed = [];
    for (let i = 0; i < MAX_SEND_REFUSALS; i++)
      failed.push(...recordRefusal(alice, [outboxId], 'RELAY_ERR_MAILBOX_FULL'));
    expect(failed).toHaveLength(1);
  });
});

describe('delivery receipts', () => {
  it('wait a random 1-10 s before they can go out', async () => {
    const { alice, bob } = await triangle();
    queueText(alice, bob.account.accountId, 'ack me');
    const now = Date.now();
    await processEnvelopes(bob, await flushOutbox(alice), { sendReceipts: true, now });
    const due = Number(
      bob.db
        .prepare("SELECT next_attempt_at FROM outbox WHERE kind = 'receipt'", { pluck: true })
        .get(),
    );
    expect(due - now).toBeGreaterThanOrEqual(RECEIPT_DELAY_MS.min);
    expect(due - now).toBeLessThanOrEqual(RECEIPT_DELAY_MS.max);
    await encryptQueued(bob);
    expect(await sealReady(bob, 10, 'all', [], now)).toEqual([]);
    const [receipt] = await sealReady(bob, 10, 'all', [], due);
    expect(receipt!.submission.recipient).toBe(alice.account.accountId);
  });
});

describe('nextDueAt', () => {
  it('says when the delayed receipts become due, so a one-shot command can wait for them', async () => {
    const { alice, bob } = await triangle();
    queueText(alice, bob.account.accountId, 'ack me later');
    const now = Date.now();
    expect(nextDueAt(bob, 'receipts', now)).toBeUndefined();
    await processEnvelopes(bob, await flushOutbox(alice), { sendReceipts: true, now });
    const due = nextDueAt(bob, 'receipts', now);
    expect(due).toBeGreaterThan(now);
    expect(due).toBeLessThanOrEqual(now + RECEIPT_DELAY_MS.max);
    expect(nextDueAt(bob, 'receipts', due)).toBeUndefined();
  });
});

describe('someone who was written to first can answer', () => {
  it("every text carries the sender's current token; an older one never replaces a newer one", async () => {
    const { profile: alice } = await newProfile('Alice');
    const { profile: bob } = await newProfile('Bob');
    // Bob has Alice's invite; Alice has never seen Bob's.
    addContact(bob, cardOf(alice));
    await startSession(
      bob,
      takeBundle(publishedKeys(alice.db, alice.account), 0),
      alice.account.accountId,
    );
    queueText(bob, alice.account.accountId, 'it is me, Bob');
    const first = await flushOutbox(bob);
    queueText(bob, alice.account.accountId, 'written before my rotation');
    const older = await flushOutbox(bob);
    blockContact(bob, (await introduceStranger(bob)).account.accountId);
    expect((await processEnvelopes(alice, first)).map((o) => o.outcome)).toEqual(['stored']);
    expect(tokenOf(alice, bob)).not.toBe(hex(ownDeliveryToken(bob))); // the old one, until the next message
    // Alice can answer now: she has a token (and, sharing a relay, her own relay is the route).
    alice.commit(undefined, (db) => setSetting(db, 'relay', TEST_RELAY));
    queueText(alice, bob.account.accountId, 'hello Bob');
    await encryptQueued(alice);
    const [answer] = await sealReady(alice, 10, 'all', []);
    expect(answer?.submission.recipient).toBe(bob.account.accountId);
    expect(answer?.relay).toBe(TEST_RELAY);
    queueText(bob, alice.account.accountId, 'after my rotation');
    await processEnvelopes(alice, await flushOutbox(bob)); // the token message and this text
    await processEnvelopes(alice, older);
    expect(tokenOf(alice, bob)).toBe(hex(ownDeliveryToken(bob)));
  });
});

/** A contact of `profile` that it can block. */
async function introduceStranger(profile: Profile): Promise<Profile> {
  const { profile: stranger } = await newProfile('Stranger');
  addContact(profile, cardOf(stranger));
  return stranger;
}
