import {
  ErrorCode,
  LibSignalErrorBase,
  ProtocolAddress,
  SignalMessage,
  signalDecrypt,
} from '@signalapp/libsignal-client';
import { describe, expect, it } from 'vitest';
import { ProtocolTransaction } from '../../../electron/core/crypto/protocol-transaction.ts';
import {
  encryptQueued,
  processEnvelopes,
  queueText,
  readyEnvelopes,
} from '../../../electron/core/index.ts';
import { flushOutbox, introduce, newProfile } from '../../support/profiles.ts';

describe('units of work are serialized per profile', () => {
  it('two batches processed concurrently both commit, and the session keeps working', async () => {
    const { profile: alice } = await newProfile('Alice');
    const { profile: bob } = await newProfile('Bob');
    await introduce(alice, bob);
    queueText(alice, bob.account.accountId, 'first');
    await processEnvelopes(bob, await flushOutbox(alice));
    queueText(bob, alice.account.accountId, 'hello back'); // from now on Alice sends Whisper messages
    await processEnvelopes(alice, await flushOutbox(bob));
    for (let i = 0; i < 40; i++) queueText(alice, bob.account.accountId, `concurrent ${i}`);
    await encryptQueued(alice, 1000);
    const inner = readyEnvelopes(alice, 1000); // the Signal messages inside the seals
    expect(inner.every((e) => e.type === 2)).toBe(true);
    const envelopes = await flushOutbox(alice);
    // Without serialization the second batch would overwrite the first's session state.
    const [one, two] = await Promise.all([
      processEnvelopes(bob, envelopes.slice(0, 20)),
      processEnvelopes(bob, envelopes.slice(20)),
    ]);
    expect([...one, ...two].every((o) => o.outcome === 'stored')).toBe(true);
    // No ratchet step was lost: every one of the 40 is now a libsignal duplicate
    // for the committed session (a regressed session would decrypt some again).
    for (const envelope of inner) {
      const unit = new ProtocolTransaction(bob.state);
      await expect(
        signalDecrypt(
          SignalMessage.deserialize(Uint8Array.from(envelope.body)),
          ProtocolAddress.new(alice.account.accountId, 1),
          ProtocolAddress.new(bob.account.accountId, 1),
          unit.sessionStore,
          unit.identityStore,
        ),
      ).rejects.toSatisfy((error) => LibSignalErrorBase.is(error, ErrorCode.DuplicatedMessage));
    }
    queueText(alice, bob.account.accountId, 'after');
    expect((await processEnvelopes(bob, await flushOutbox(alice))).map((o) => o.outcome)).toEqual([
      'stored',
    ]);
    queueText(bob, alice.account.accountId, 'reply');
    expect((await processEnvelopes(alice, await flushOutbox(bob))).map((o) => o.outcome)).toEqual([
      'stored',
    ]);
  });
});
