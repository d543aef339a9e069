import { describe, expect, it } from 'vitest';
import {
  addContact,
  encryptQueued,
  getContact,
  processEnvelopes,
  publishedKeys,
  queueText,
  readyEnvelopes,
  startSession,
} from '../../../electron/core/index.ts';
import { takeBundle } from '../../../shared/protocol/keys.ts';
import { rejectedCode, thrownCode } from '../../support/errors.ts';
import { cardOf, flushOutbox, introduce, newProfile } from '../../support/profiles.ts';

describe('account ids certify their identity keys', () => {
  it('a message claiming to come from an account whose key the sender does not hold is never stored or pinned', async () => {
    const { profile: bob } = await newProfile('Bob');
    const { profile: mallory } = await newProfile('Mallory');
    const { profile: carol } = await newProfile('Carol'); // the account Mallory pretends to be
    addContact(mallory, cardOf(bob));
    await startSession(mallory, takeBundle(publishedKeys(bob.db, bob.account), 0));
    queueText(mallory, bob.account.accountId, 'hi, it is Carol');
    const forged = (await flushOutbox(mallory)).map((e) => ({ ...e, sender: carol.account.accountId }));
    // Rejected at the first attempt: no retry can make Mallory's key derive Carol's id.
    expect((await processEnvelopes(bob, forged))[0]).toMatchObject({ outcome: 'rejected', error: 'FORGED_IDENTITY' });
    expect(bob.db.prepare('SELECT count(*) FROM messages', { pluck: true }).get()).toBe(0);
    expect(bob.state.getIdentity(carol.account.accountId)).toBeUndefined();
  });

  it('an invite whose key does not derive its account id is refused', async () => {
    const { profile: alice } = await newProfile('Alice');
    const { profile: bob } = await newProfile('Bob');
    const { profile: mallory } = await newProfile('Mallory');
    const forged = { ...cardOf(bob), identityKey: mallory.account.identity.publicKey.serialize() };
    expect(thrownCode(() => addContact(alice, forged))).toBe('IDENTITY_MISMATCH');
    expect(thrownCode(() => getContact(alice.db, bob.account.accountId))).toBe('UNKNOWN_CONTACT');
  });

  it("a directory answering with another account's bundle is refused and records nothing", async () => {
    const { profile: alice } = await newProfile('Alice');
    const { profile: bob } = await newProfile('Bob');
    const { profile: mallory } = await newProfile('Mallory');
    addContact(alice, cardOf(bob));
    const code = await rejectedCode(() =>
      startSession(alice, takeBundle(publishedKeys(mallory.db, mallory.account), 0), bob.account.accountId),
    );
    expect(code).toBe('RELAY_REFUSED');
    // A bundle claiming Bob's id with Mallory's key is a forgery, not an identity change.
    const swapped = { ...takeBundle(publishedKeys(mallory.db, mallory.account), 1), accountId: bob.account.accountId };
    expect(await rejectedCode(() => startSession(alice, swapped, bob.account.accountId))).toBe('IDENTITY_MISMATCH');
    expect(getContact(alice.db, bob.account.accountId).trust).toBe('trusted');
  });
});

describe('the outbox under a stalled recipient', () => {
  it('readyEnvelopes skips excluded recipients in the query, so others are not starved', async () => {
    const { profile: alice } = await newProfile('Alice');
    const { profile: bob } = await newProfile('Bob');
    const { profile: carol } = await newProfile('Carol');
    await introduce(alice, bob);
    await introduce(alice, carol);
    for (let i = 0; i < 5; i++) queueText(alice, bob.account.accountId, `bob ${i}`);
    queueText(alice, carol.account.accountId, 'carol');
    await encryptQueued(alice); // encrypted, not marked sent: all six are ready
    expect(readyEnvelopes(alice, 5).every((e) => e.recipient === bob.account.accountId)).toBe(true);
    expect(readyEnvelopes(alice, 5, 'all', [bob.account.accountId]).map((e) => e.recipient)).toEqual([carol.account.accountId]);
  });
});

