import {
  ContentHint,
  signalEncrypt,
  UnidentifiedSenderMessageContent,
} from '@signalapp/libsignal-client';
import { describe, expect, it } from 'vitest';
import { encodeContent } from '../../../shared/protocol/content.ts';
import { ProtocolTransaction } from '../../../electron/core/crypto/protocol-transaction.ts';
import { localAddress, peerAddress } from '../../../electron/core/messaging/addresses.ts';
import { senderCertificate } from '../../../electron/core/messaging/sealed.ts';
import { unidentifiedContent } from '../../../electron/core/messaging/usmc.ts';
import { processEnvelopes, queueText } from '../../../electron/core/index.ts';
import { flushOutbox, introduce, newProfile } from '../../support/profiles.ts';

// usmc.ts writes libsignal's UnidentifiedSenderMessageContent protobuf by hand
// (libsignal builds one only from a live CiphertextMessage). Pinned here
// byte for byte against libsignal's own encoder, for both message kinds and hints.

describe('the hand-written sealed-sender content', () => {
  it("is byte-identical to libsignal's for PreKey and Whisper messages, Default and Implicit hints", async () => {
    const { profile: alice } = await newProfile('Alice');
    const { profile: bob } = await newProfile('Bob');
    await introduce(alice, bob);
    const certificate = senderCertificate(alice);
    const seen = new Set<number>();
    for (let i = 0; i < 2; i++) {
      if (i === 1) {
        // Bob answers: Alice's session is acknowledged and her next message is a Whisper message.
        queueText(alice, bob.account.accountId, 'hello');
        await processEnvelopes(bob, await flushOutbox(alice));
        queueText(bob, alice.account.accountId, 'hi');
        await processEnvelopes(alice, await flushOutbox(bob));
      }
      const tx = new ProtocolTransaction(alice.state);
      const message = await signalEncrypt(
        encodeContent({
          v: 1,
          type: 'receipt',
          kind: 'delivered',
          ids: ['0190c7a0-0000-7000-8000-000000000000'],
          sentAt: i,
        }),
        peerAddress(bob.account.accountId, 1),
        localAddress(alice),
        tx.sessionStore,
        tx.identityStore,
      );
      seen.add(message.type());
      for (const hint of [ContentHint.Default, ContentHint.Implicit, ContentHint.Resendable]) {
        const reference = UnidentifiedSenderMessageContent.new(
          message,
          certificate,
          hint,
          null,
        ).serialize();
        const ours = unidentifiedContent(
          message.type(),
          message.serialize(),
          certificate,
          hint,
        ).serialize();
        expect(Buffer.from(ours)).toEqual(Buffer.from(reference));
      }
    }
    expect(seen).toEqual(new Set([3, 2])); // PreKey, then Whisper
  });

  it('refuses message kinds that are not sealed (plaintext content, 8)', async () => {
    const { profile: alice } = await newProfile('Alice');
    expect(() => unidentifiedContent(8, new Uint8Array(10), senderCertificate(alice), 0)).toThrow();
  });

  it('writes a sender-key message with its group id as libsignal reads it (type 7, field 5)', async () => {
    const { profile: alice } = await newProfile('Alice');
    const groupId = new Uint8Array(32).fill(9);
    const usmc = unidentifiedContent(
      7,
      new Uint8Array(10).fill(1),
      senderCertificate(alice),
      1,
      groupId,
    );
    expect(usmc.msgType()).toBe(7);
    expect(usmc.contentHint()).toBe(1);
    expect(Buffer.from(usmc.groupId()!)).toEqual(Buffer.from(groupId));
    expect(Buffer.from(usmc.contents())).toEqual(Buffer.from(new Uint8Array(10).fill(1)));
  });
});
