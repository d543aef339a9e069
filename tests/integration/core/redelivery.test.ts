import { describe, expect, it } from 'vitest';
import {
  listConversations,
  messagesPage,
  processEnvelopes,
  queueText,
  type IncomingEnvelope,
} from '../../../electron/core/index.ts';
import { IdentityKeyPair, SignalMessage } from '@signalapp/libsignal-client';
import {
  retryUnprocessed,
  unprocessedEnvelopeCount,
} from '../../../electron/core/messaging/receive.ts';
import { flushOutbox, introduce, newProfile } from '../../support/profiles.ts';
import { delivered, honestCertificate, sealWith } from '../../support/sealing.ts';

function bodies(profile: Awaited<ReturnType<typeof newProfile>>['profile']): string[] {
  const [conversation] = listConversations(profile.db);
  return messagesPage(profile.db, conversation!.id, 1000)
    .map((m) => m.body)
    .reverse();
}

describe('redelivery and reordering (R3)', () => {
  it('a replayed envelope id is acknowledged as already processed, with no duplicate row', async () => {
    const { profile: alice } = await newProfile('Alice');
    const { profile: bob } = await newProfile('Bob');
    await introduce(alice, bob);
    queueText(alice, bob.account.accountId, 'once only');
    const envelopes = await flushOutbox(alice);
    expect((await processEnvelopes(bob, envelopes)).map((o) => o.outcome)).toEqual(['stored']);
    expect((await processEnvelopes(bob, envelopes)).map((o) => o.outcome)).toEqual(['duplicate']);
    // Both copies in one batch: the second is a duplicate of the first.
    queueText(alice, bob.account.accountId, 'twice in a batch');
    const [next] = await flushOutbox(alice);
    const outcomes = await processEnvelopes(bob, [next!, next!]);
    expect(outcomes.map((o) => o.outcome).sort()).toEqual(['duplicate', 'stored']);
    expect(bodies(bob)).toEqual(['once only', 'twice in a batch']);
  });

  it('the same ciphertext under a new envelope id is a libsignal duplicate: acked, not stored again', async () => {
    const { profile: alice } = await newProfile('Alice');
    const { profile: bob } = await newProfile('Bob');
    await introduce(alice, bob);
    queueText(alice, bob.account.accountId, 'first (prekey message)');
    queueText(alice, bob.account.accountId, 'second');
    const envelopes = await flushOutbox(alice);
    await processEnvelopes(bob, envelopes);
    const replayed: IncomingEnvelope[] = envelopes.map((e) => ({ ...e, id: `${e.id}-replayed` }));
    const outcomes = await processEnvelopes(bob, replayed);
    expect(outcomes.map((o) => o.outcome)).toEqual(['duplicate', 'duplicate']);
    expect(bodies(bob)).toEqual(['first (prekey message)', 'second']);
  });

  it('messages reordered within the ratchet window all decrypt, and history is in sent order', async () => {
    const { profile: alice } = await newProfile('Alice');
    const { profile: bob } = await newProfile('Bob');
    await introduce(alice, bob);
    for (let i = 0; i < 40; i++) queueText(alice, bob.account.accountId, `m${i}`);
    const envelopes = await flushOutbox(alice);
    // The first (prekey) message, then the rest reversed and in small shuffled batches.
    const [first, ...rest] = envelopes;
    const shuffled = [first!, ...rest.reverse()];
    for (let i = 0; i < shuffled.length; i += 7) {
      const outcomes = await processEnvelopes(bob, shuffled.slice(i, i + 7));
      expect(outcomes.every((o) => o.outcome === 'stored')).toBe(true);
    }
    expect(bodies(bob)).toEqual(Array.from({ length: 40 }, (_, i) => `m${i}`));
  });

  it('a garbage seal is rejected at once and recorded (R5); then it is a duplicate', async () => {
    const { profile: alice } = await newProfile('Alice');
    const { profile: bob } = await newProfile('Bob');
    await introduce(alice, bob);
    const garbage: IncomingEnvelope = {
      id: 'garbage-1',
      body: new Uint8Array([1, 2, 3, 4]),
      serverTime: Date.now(),
    };
    expect((await processEnvelopes(bob, [garbage]))[0]).toMatchObject({
      outcome: 'rejected',
      error: 'UNSEAL_FAILED',
    });
    expect((await processEnvelopes(bob, [garbage]))[0]!.outcome).toBe('duplicate');
    expect(bob.db.prepare('SELECT error_code, attempts FROM failed_envelopes').all()).toEqual([
      { error_code: 'UNSEAL_FAILED', attempts: 3 },
    ]);
  });

  it('a genuine seal around an inner message that does not decrypt is retried a bounded number of times (R5)', async () => {
    const { profile: alice } = await newProfile('Alice');
    const { profile: bob } = await newProfile('Bob');
    await introduce(alice, bob);
    // Alice's real certificate and seal around a Whisper message Bob has no session for.
    const ratchet = IdentityKeyPair.generate().publicKey;
    const message = SignalMessage._new(
      4,
      new Uint8Array(32).fill(1),
      ratchet,
      0,
      0,
      new Uint8Array(32),
      alice.account.identity.publicKey,
      bob.account.identity.publicKey,
      new Uint8Array(0),
    );
    const inner = { type: 2, body: message.serialize() };
    const body = await sealWith(
      alice.account.identity,
      bob,
      inner,
      honestCertificate(alice.account.identity, alice.account.accountId),
    );
    const envelope = delivered(body);
    // The first attempt keeps it (acked at the relay); later ones come from the table.
    const seen = [(await processEnvelopes(bob, [envelope]))[0]!.outcome];
    // The relay redelivering the kept envelope (its ack was lost) is a duplicate, not an attempt.
    expect((await processEnvelopes(bob, [envelope]))[0]!.outcome).toBe('duplicate');
    for (let attempt = 1; attempt < 3; attempt++)
      seen.push(...(await retryUnprocessed(bob)).map((o) => o.outcome));
    expect(seen).toEqual(['retry', 'retry', 'rejected']);
    expect(unprocessedEnvelopeCount(bob.db)).toBe(0);
    expect((await processEnvelopes(bob, [envelope]))[0]!.outcome).toBe('duplicate');
    expect(
      bob.db.prepare('SELECT sender_account, error_code, attempts FROM failed_envelopes').all(),
    ).toEqual([
      { sender_account: alice.account.accountId, error_code: 'DECRYPT_FAILED', attempts: 3 },
    ]);
  });
});
