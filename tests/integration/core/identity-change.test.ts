import { describe, expect, it } from 'vitest';
import {
  acceptIdentityChange,
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

  it('a changed identity is stored and flagged, clears "verified", and blocks sending until accepted', async () => {
    const { profile: alice } = await newProfile('Alice');
    const { profile: bob } = await newProfile('Bob');
    await introduce(alice, bob);
    queueText(alice, bob.account.accountId, 'hello before');
    await processEnvelopes(bob, await flushOutbox(alice));
    markVerified(alice, bob.account.accountId);
    expect(getContact(alice.db, bob.account.accountId)).toMatchObject({ trust: 'trusted', verified: true });
    const oldNumber = safetyNumber(alice, bob.account.accountId).digits;

    // Bob's identity key is replaced (same account id); he starts over with Alice.
    bob.resetIdentity();
    await startSession(bob, takeBundle(publishedKeys(alice.db, alice.account), 1));
    queueText(bob, alice.account.accountId, 'hello from my new key');
    const outcomes = await processEnvelopes(alice, await flushOutbox(bob));
    expect(outcomes.map((o) => o.outcome)).toEqual(['stored']);

    expect(getContact(alice.db, bob.account.accountId)).toMatchObject({ trust: 'changed', verified: false });
    expect(listConversations(alice.db)[0]).toMatchObject({ identityChanged: true });
    expect(alice.db.prepare('SELECT count(*) FROM identity_changes WHERE accepted_at IS NULL', { pluck: true }).get()).toBe(1);
    expect(safetyNumber(alice, bob.account.accountId).digits).not.toBe(oldNumber);
    expect(await rejectedCode(() => queueText(alice, bob.account.accountId, 'blocked'))).toBe('IDENTITY_CHANGED');

    acceptIdentityChange(alice, bob.account.accountId);
    expect(listConversations(alice.db)[0]).toMatchObject({ identityChanged: false });
    expect(getContact(alice.db, bob.account.accountId)).toMatchObject({ trust: 'trusted', verified: false });
    queueText(alice, bob.account.accountId, 'welcome back');
    const reply = await processEnvelopes(bob, await flushOutbox(alice));
    expect(reply.map((o) => o.outcome)).toEqual(['stored']);
  });

  it('a fetched bundle with a different identity key is refused with IDENTITY_CHANGED and flagged', async () => {
    const { profile: alice } = await newProfile('Alice');
    const { profile: bob } = await newProfile('Bob');
    await introduce(alice, bob);
    bob.resetIdentity();
    const code = await rejectedCode(() => startSession(alice, takeBundle(publishedKeys(bob.db, bob.account), 0)));
    expect(code).toBe('IDENTITY_CHANGED');
    expect(getContact(alice.db, bob.account.accountId).trust).toBe('changed');
    expect(listConversations(alice.db)[0]).toMatchObject({ identityChanged: true });
    markVerified(alice, bob.account.accountId);
    await startSession(alice, takeBundle(publishedKeys(bob.db, bob.account), 0));
    expect(getContact(alice.db, bob.account.accountId)).toMatchObject({ trust: 'trusted', verified: true });
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
    // Bob's key changes before any of it is encrypted: his 30 wait for the user.
    bob.resetIdentity();
    await rejectedCode(() => startSession(alice, takeBundle(publishedKeys(bob.db, bob.account), 1)));
    queueText(alice, carol.account.accountId, 'to carol');
    expect(await encryptQueued(alice, 10)).toBe(1);
    expect(readyEnvelopes(alice).map((e) => e.recipient)).toEqual([carol.account.accountId]);
  });
});
