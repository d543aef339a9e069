import { describe, expect, it } from 'vitest';
import {
  getContact,
  listConversations,
  markVerified,
  processEnvelopes,
  publishedKeys,
  queueText,
  safetyNumber,
  startSession,
  encryptQueued,
  readyEnvelopes,
} from '../../../electron/core/index.ts';
import { takeBundle } from '../../../shared/protocol/keys.ts';
import { rejectedCode } from '../../support/errors.ts';
import { flushOutbox, introduce, newProfile } from '../../support/profiles.ts';

describe('trust: first use, identity changes, verification', () => {
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

  it('a new key under a known account id is a forgery: its messages are refused, nothing is flagged or pinned', async () => {
    const { profile: alice } = await newProfile('Alice');
    const { profile: bob } = await newProfile('Bob');
    await introduce(alice, bob);
    markVerified(alice, bob.account.accountId);
    const oldNumber = safetyNumber(alice, bob.account.accountId).digits;
    // Bob's key is replaced under the same id (what protocol 1 called an identity change).
    bob.resetIdentity();
    await startSession(bob, takeBundle(publishedKeys(alice.db, alice.account), 1), alice.account.accountId);
    queueText(bob, alice.account.accountId, 'hello from my new key');
    const outcomes = await processEnvelopes(alice, await flushOutbox(bob));
    expect(outcomes).toEqual([expect.objectContaining({ outcome: 'rejected', error: 'FORGED_SENDER' })]);
    expect(getContact(alice.db, bob.account.accountId)).toMatchObject({ trust: 'trusted', verified: true });
    expect(listConversations(alice.db)[0]).toMatchObject({ identityChanged: false });
    expect(alice.db.prepare('SELECT count(*) FROM identity_changes', { pluck: true }).get()).toBe(0);
    expect(safetyNumber(alice, bob.account.accountId).digits).toBe(oldNumber);
    // Its bundle is refused the same way.
    const code = await rejectedCode(() =>
      startSession(alice, takeBundle(publishedKeys(bob.db, bob.account), 0), bob.account.accountId),
    );
    expect(code).toBe('IDENTITY_MISMATCH');
  });
});

describe('a blocked recipient does not hold up the outbox', () => {
  it('messages to others are encrypted even behind a long backlog for a contact whose identity changed', async () => {
    const { profile: alice } = await newProfile('Alice');
    const { profile: bob } = await newProfile('Bob');
    const { profile: carol } = await newProfile('Carol');
    await introduce(alice, bob);
    await introduce(alice, carol);
    for (let i = 0; i < 30; i++) queueText(alice, bob.account.accountId, `to bob ${i}`);
    // A pending identity decision for Bob before any of it is encrypted: his 30 wait for the user.
    alice.db.prepare("UPDATE identities SET trust = 'changed' WHERE account_id = ?").run([bob.account.accountId]);
    alice.state.clearCache();
    queueText(alice, carol.account.accountId, 'to carol');
    expect(await encryptQueued(alice, 10)).toBe(1);
    expect(readyEnvelopes(alice).map((e) => e.recipient)).toEqual([carol.account.accountId]);
  });
});
