import { trustRefusalCounts } from '../../../electron/core/crypto/trust-refusals.ts';
import {
  ProtocolAddress,
  sealedSenderEncrypt,
  UnidentifiedSenderMessageContent,
} from '@signalapp/libsignal-client';
import { describe, expect, it } from 'vitest';
import {
  encryptQueued,
  listConversations,
  messagesPage,
  processEnvelopes,
  queueText,
  readyEnvelopes,
} from '../../../electron/core/index.ts';
import { encodeContent } from '../../../shared/protocol/content.ts';
import { toBase64 } from '../../../shared/protocol/encoding.ts';
import { unidentifiedContent } from '../../../electron/core/messaging/usmc.ts';
import { senderCertificate } from '../../../electron/core/messaging/sealed.ts';
import { ProtocolTransaction } from '../../../electron/core/crypto/protocol-transaction.ts';
import { retryUnprocessed } from '../../../electron/core/messaging/receive.ts';
import { flushOutbox, introduce, newProfile } from '../../support/profiles.ts';
import { delivered } from '../../support/sealing.ts';
import { malloryReachesBob, sealedContent } from '../../support/hostile-content.ts';

// Well-sealed envelopes from a real sender whose content is hostile: the seal
// and certificate are fine, what is inside is not.

describe('hostile content inside a valid seal', () => {
  it('a token message from someone who is not a contact creates no contact and changes nothing', async () => {
    const { bob, mallory } = await malloryReachesBob();
    const body = await sealedContent(mallory, bob, {
      v: 1,
      type: 'token',
      token: toBase64(new Uint8Array(16).fill(7)),
      sentAt: Date.now(),
    });
    expect((await processEnvelopes(bob, [delivered(body)])).map((o) => o.outcome)).toEqual([
      'control',
    ]);
    expect(bob.db.prepare('SELECT count(*) FROM contacts', { pluck: true }).get()).toBe(0);
    expect(listConversations(bob.db)).toEqual([]);
  });

  it("a stranger's unsigned moved notice is refused and counted, acknowledged, and never shown", async () => {
    const { bob, mallory } = await malloryReachesBob();
    const notice = {
      from: mallory.account.accountId,
      to: mallory.account.accountId,
      identityKey: toBase64(mallory.account.identity.publicKey.serialize()),
      issuedAt: Date.now(),
      signature: toBase64(new Uint8Array(64)),
    };
    const moved = {
      v: 1,
      type: 'moved',
      notice,
      relay: 'wss://x.test',
      relayId: 'AAAAAAAAAAAAAAAAAAAAAA',
      token: toBase64(new Uint8Array(16)),
      sentAt: 1,
    };
    expect(encodeContent(moved as never).length).toBeGreaterThan(0); // it is valid content
    const outcomes = await processEnvelopes(bob, [
      delivered(await sealedContent(mallory, bob, moved)),
    ]);
    // Applied or refused, a notice is acknowledged (retrying cannot help); this one moves no contact of Bob's.
    expect(outcomes).toEqual([expect.objectContaining({ outcome: 'control' })]);
    expect(trustRefusalCounts(bob.db)['move.unknown-account']).toBe(1);
    expect(bob.db.prepare('SELECT count(*) FROM identity_moves', { pluck: true }).get()).toBe(0);
    expect(bob.db.prepare('SELECT count(*) FROM messages', { pluck: true }).get()).toBe(0);
  });

  it("a contact's receipt cannot mark another contact's messages delivered", async () => {
    const { profile: alice } = await newProfile('Alice');
    const { profile: bob } = await newProfile('Bob');
    const { profile: mallory } = await newProfile('Mallory');
    await introduce(alice, bob);
    await introduce(mallory, alice);
    const { uuid } = queueText(alice, bob.account.accountId, 'for Bob');
    await flushOutbox(alice);
    const body = await sealedContent(mallory, alice, {
      v: 1,
      type: 'receipt',
      kind: 'delivered',
      ids: [uuid],
      sentAt: Date.now(),
    });
    expect((await processEnvelopes(alice, [delivered(body)])).map((o) => o.outcome)).toEqual([
      'receipt',
    ]);
    const [toBob] = listConversations(alice.db).filter((c) => c.displayName === 'Bob');
    expect(messagesPage(alice.db, toBob!.id, 10).map((m) => m.status)).toEqual(['sent']);
  });

  it('invalid content (schema, padding) is retried, then rejected; nothing is stored', async () => {
    const { bob, mallory } = await malloryReachesBob();
    const body = await sealedContent(mallory, bob, {
      v: 1,
      type: 'text',
      id: 'not-a-uuid',
      sentAt: -1,
      body: 'x',
    });
    const envelope = delivered(body);
    // The first attempt keeps the raw envelope; the next two retry it from the profile.
    const seen = [(await processEnvelopes(bob, [envelope]))[0]!.outcome];
    for (let i = 1; i < 3; i++) seen.push(...(await retryUnprocessed(bob)).map((o) => o.outcome));
    expect(seen).toEqual(['retry', 'retry', 'rejected']);
    expect(
      bob.db.prepare('SELECT count(*) FROM unprocessed_envelopes', { pluck: true }).get(),
    ).toBe(0);
    expect(bob.db.prepare('SELECT count(*) FROM messages', { pluck: true }).get()).toBe(0);
  });

  it('a sealed message naming a group is refused (UNKNOWN_TYPE): there are no groups to belong to', async () => {
    const { bob, mallory } = await malloryReachesBob();
    queueText(mallory, bob.account.accountId, 'to the group');
    await encryptQueued(mallory);
    const [inner] = readyEnvelopes(mallory, 1);
    const plain = unidentifiedContent(
      inner!.type,
      inner!.body,
      senderCertificate(mallory),
      0,
    ).serialize();
    // Append protobuf field 5 (groupId, bytes): 0x2a, length 4.
    const withGroup = UnidentifiedSenderMessageContent.deserialize(
      Uint8Array.from([...plain, 0x2a, 4, 1, 2, 3, 4]),
    );
    expect(withGroup.groupId()).not.toBeNull();
    const body = await sealedSenderEncrypt(
      withGroup,
      ProtocolAddress.new(bob.account.accountId, 1),
      new ProtocolTransaction(mallory.state).identityStore,
    );
    expect((await processEnvelopes(bob, [delivered(body)]))[0]).toMatchObject({
      outcome: 'rejected',
      error: 'UNKNOWN_TYPE',
    });
  });
});
