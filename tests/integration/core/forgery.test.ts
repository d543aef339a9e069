import { describe, expect, it } from 'vitest';
import {
  addContact,
  encryptQueued,
  getContact,
  publishedKeys,
  queueText,
  readyEnvelopes,
  startSession,
} from '../../../electron/core/index.ts';
import { takeBundle } from '../../../shared/protocol/keys.ts';
import { rejectedCode, thrownCode } from '../../support/errors.ts';
import { cardOf, introduce, newProfile } from '../../support/profiles.ts';

describe('account ids certify their identity keys', () => {
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
      startSession(
        alice,
        takeBundle(publishedKeys(mallory.db, mallory.account), 0),
        bob.account.accountId,
      ),
    );
    expect(code).toBe('RELAY_REFUSED');
    // A bundle claiming Bob's id with Mallory's key: refused outright (an id is its key), nothing recorded.
    const swapped = {
      ...takeBundle(publishedKeys(mallory.db, mallory.account), 1),
      accountId: bob.account.accountId,
    };
    expect(await rejectedCode(() => startSession(alice, swapped, bob.account.accountId))).toBe(
      'IDENTITY_MISMATCH',
    );
    expect(getContact(alice.db, bob.account.accountId).trust).toBe('trusted');
    expect(alice.db.prepare('SELECT count(*) FROM identity_changes', { pluck: true }).get()).toBe(
      0,
    );
    // The same for an account not pinned yet.
    const { profile: carol } = await newProfile('Carol');
    const asCarol = {
      ...takeBundle(publishedKeys(mallory.db, mallory.account), 2),
      accountId: carol.account.accountId,
    };
    expect(await rejectedCode(() => startSession(alice, asCarol, carol.account.accountId))).toBe(
      'IDENTITY_MISMATCH',
    );
    expect(alice.state.getIdentity(carol.account.accountId)).toBeUndefined();
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
    expect(
      readyEnvelopes(alice, 5, 'all', [bob.account.accountId]).map((e) => e.recipient),
    ).toEqual([carol.account.accountId]);
  });
});
