import { describe, expect, it } from 'vitest';
import {
  addContact,
  encryptQueued,
  getContact,
  listConversations,
  markVerified,
  messagesPage,
  processEnvelopes,
  publishedKeys,
  type Profile,
  queueText,
  readyEnvelopes,
  safetyNumber,
  startSession,
} from '../../../electron/core/index.ts';
import { trustRefusalCounts } from '../../../electron/core/crypto/trust-refusals.ts';
import { takeBundle } from '../../../shared/protocol/keys.ts';
import { rejectedCode, thrownCode } from '../../support/errors.ts';
import { cardOf, flushOutbox, introduce, newProfile } from '../../support/profiles.ts';
import { delivered, honestCertificate, sealWith } from '../../support/sealing.ts';

function count(profile: Profile, sql: string): number {
  return Number(profile.db.prepare(sql, { pluck: true }).get());
}

describe('trust: first use and verification', () => {
  it('safety numbers are 60 digits and agree on both sides', async () => {
    const { profile: alice } = await newProfile('Alice');
    const { profile: bob } = await newProfile('Bob');
    await introduce(alice, bob);
    const atAlice = safetyNumber(alice, bob.account.accountId);
    const atBob = safetyNumber(bob, alice.account.accountId);
    expect(atAlice.digits).toMatch(/^\d{60}$/);
    expect(atAlice.digits).toBe(atBob.digits);
    expect(atAlice.scannable.length).toBeGreaterThan(32);
  });

  it('verifying marks the pinned key verified and keeps it', async () => {
    const { profile: alice } = await newProfile('Alice');
    const { profile: bob } = await newProfile('Bob');
    await introduce(alice, bob);
    markVerified(alice, bob.account.accountId);
    expect(getContact(alice.db, bob.account.accountId)).toMatchObject({
      trust: 'trusted',
      verified: true,
    });
  });
});

describe("the review's attack: a stranger's key under a known contact's id", () => {
  /** Mallory's inner Signal message to Bob, on a real session of her own. */
  async function innerFrom(mallory: Profile, bob: Profile, text: string) {
    queueText(mallory, bob.account.accountId, text);
    await encryptQueued(mallory);
    const [inner] = readyEnvelopes(mallory, 1);
    return inner!;
  }

  it("a message claiming a known contact's id with the attacker's key is refused, counted, never shown, and verify cannot trust it", async () => {
    const { profile: bob } = await newProfile('Bob');
    const { profile: carol } = await newProfile('Carol');
    const { profile: mallory } = await newProfile('Mallory');
    await introduce(carol, bob);
    queueText(carol, bob.account.accountId, 'hi Bob, Carol here');
    expect((await processEnvelopes(bob, await flushOutbox(carol))).map((o) => o.outcome)).toEqual([
      'stored',
    ]);
    const carolNumber = safetyNumber(bob, carol.account.accountId).digits;

    // Mallory writes to Bob with her own key; her certificate names Carol as the sender.
    addContact(mallory, cardOf(bob));
    await startSession(
      mallory,
      takeBundle(publishedKeys(bob.db, bob.account), 1),
      bob.account.accountId,
    );
    const inner = await innerFrom(
      mallory,
      bob,
      'Carol again: my number changed, send me the codes',
    );
    const forged = await sealWith(mallory.account.identity, bob, inner, {
      ...honestCertificate(mallory.account.identity, mallory.account.accountId),
      claim: carol.account.accountId,
    });
    const outcomes = await processEnvelopes(bob, [delivered(forged)]);

    // Rejected at once (retrying cannot make the key derive the id), so it can be acked.
    expect(outcomes).toEqual([
      expect.objectContaining({ outcome: 'rejected', error: 'FORGED_SENDER' }),
    ]);
    const conversation = getContact(bob.db, carol.account.accountId).conversationId;
    expect(messagesPage(bob.db, conversation, 10).map((m) => m.body)).toEqual([
      'hi Bob, Carol here',
    ]);
    expect(getContact(bob.db, carol.account.accountId)).toMatchObject({ trust: 'trusted' });
    expect(listConversations(bob.db)[0]).toMatchObject({ identityChanged: false });
    expect(count(bob, 'SELECT count(*) FROM identity_changes')).toBe(0);
    expect(trustRefusalCounts(bob.db)['identity.forged']).toBe(1);

    // `verify` pins nothing new: Carol's key stays, and a reply reaches only Carol.
    markVerified(bob, carol.account.accountId);
    expect(safetyNumber(bob, carol.account.accountId).digits).toBe(carolNumber);
    queueText(bob, carol.account.accountId, 'reply');
    const reply = await flushOutbox(bob);
    expect((await processEnvelopes(carol, reply)).map((o) => o.outcome)).toEqual(['stored']);
    expect(
      (
        await processEnvelopes(
          mallory,
          reply.map((e) => ({ ...e, id: `${e.id}-m` })),
        )
      )[0],
    ).toMatchObject({ outcome: 'rejected' });
  });

  it('every forged envelope is counted, none is stored, and the session with the real contact is untouched', async () => {
    const { profile: bob } = await newProfile('Bob');
    const { profile: carol } = await newProfile('Carol');
    const { profile: mallory } = await newProfile('Mallory');
    await introduce(bob, carol);
    addContact(mallory, cardOf(bob));
    await startSession(
      mallory,
      takeBundle(publishedKeys(bob.db, bob.account), 2),
      bob.account.accountId,
    );
    const forged = [];
    for (let i = 0; i < 3; i++) {
      const inner = await innerFrom(mallory, bob, `forged ${i}`);
      forged.push(
        delivered(
          await sealWith(mallory.account.identity, bob, inner, {
            ...honestCertificate(mallory.account.identity, mallory.account.accountId),
            claim: carol.account.accountId,
          }),
        ),
      );
    }
    const outcomes = await processEnvelopes(bob, forged);
    expect(outcomes.map((o) => o.outcome)).toEqual(['rejected', 'rejected', 'rejected']);
    expect(count(bob, 'SELECT count(*) FROM messages')).toBe(0);
    expect(trustRefusalCounts(bob.db)['identity.forged']).toBe(3);
    queueText(bob, carol.account.accountId, 'still you?');
    expect((await processEnvelopes(carol, await flushOutbox(bob))).map((o) => o.outcome)).toEqual([
      'stored',
    ]);
  });
});

describe('bundles and invites must carry the key their account id derives from', () => {
  it("a bundle claiming a contact's id with another key is IDENTITY_MISMATCH and records nothing but the count", async () => {
    const { profile: alice } = await newProfile('Alice');
    const { profile: bob } = await newProfile('Bob');
    const { profile: mallory } = await newProfile('Mallory');
    addContact(alice, cardOf(bob));
    const swapped = {
      ...takeBundle(publishedKeys(mallory.db, mallory.account), 0),
      accountId: bob.account.accountId,
    };
    expect(await rejectedCode(() => startSession(alice, swapped, bob.account.accountId))).toBe(
      'IDENTITY_MISMATCH',
    );
    expect(getContact(alice.db, bob.account.accountId)).toMatchObject({
      trust: 'trusted',
      verified: false,
    });
    expect(listConversations(alice.db)[0]).toMatchObject({ identityChanged: false });
    expect(count(alice, 'SELECT count(*) FROM sessions')).toBe(0);
    expect(count(alice, 'SELECT count(*) FROM identity_changes')).toBe(0);
    expect(trustRefusalCounts(alice.db)['identity.forged']).toBe(1);
    // The genuine bundle still works afterwards.
    await startSession(
      alice,
      takeBundle(publishedKeys(bob.db, bob.account), 0),
      bob.account.accountId,
    );
    expect(count(alice, 'SELECT count(*) FROM sessions')).toBe(1);
  });

  it("a bundle for a stranger's id with another key is refused and pins nothing", async () => {
    const { profile: alice } = await newProfile('Alice');
    const { profile: bob } = await newProfile('Bob');
    const { profile: mallory } = await newProfile('Mallory');
    const swapped = {
      ...takeBundle(publishedKeys(mallory.db, mallory.account), 0),
      accountId: bob.account.accountId,
    };
    expect(await rejectedCode(() => startSession(alice, swapped, bob.account.accountId))).toBe(
      'IDENTITY_MISMATCH',
    );
    expect(alice.state.getIdentity(bob.account.accountId)).toBeUndefined();
  });

  it('re-adding a contact from an invite with another key is IDENTITY_MISMATCH, the pinned key stays', async () => {
    const { profile: alice } = await newProfile('Alice');
    const { profile: bob } = await newProfile('Bob');
    const { profile: mallory } = await newProfile('Mallory');
    addContact(alice, cardOf(bob));
    const before = safetyNumber(alice, bob.account.accountId).digits;
    const forged = { ...cardOf(bob), identityKey: mallory.account.identity.publicKey.serialize() };
    expect(thrownCode(() => addContact(alice, forged))).toBe('IDENTITY_MISMATCH');
    expect(safetyNumber(alice, bob.account.accountId).digits).toBe(before);
    expect(getContact(alice.db, bob.account.accountId).trust).toBe('trusted');
  });
});

describe('a contact whose move awaits the user does not hold up the outbox', () => {
  it('messages to others are encrypted even behind a long backlog for that contact', async () => {
    const { profile: alice } = await newProfile('Alice');
    const { profile: bob } = await newProfile('Bob');
    const { profile: carol } = await newProfile('Carol');
    await introduce(alice, bob);
    await introduce(alice, carol);
    for (let i = 0; i < 30; i++) queueText(alice, bob.account.accountId, `to bob ${i}`);
    // A pending move for Bob before any of it is encrypted: his 30 wait for the user.
    alice.db
      .prepare("UPDATE identities SET trust = 'changed' WHERE account_id = ?")
      .run([bob.account.accountId]);
    alice.state.clearCache();
    queueText(alice, carol.account.accountId, 'to carol');
    expect(await encryptQueued(alice, 10)).toBe(1);
    expect(readyEnvelopes(alice).map((e) => e.recipient)).toEqual([carol.account.accountId]);
  });
});
