import { IdentityKeyPair } from '@signalapp/libsignal-client';
import { describe, expect, it } from 'vitest';
import {
  addContact,
  encryptQueued,
  getContact,
  listConversations,
  messagesPage,
  processEnvelopes,
  publishedKeys,
  queueText,
  readyEnvelopes,
  sealReady,
  startSession,
  type Profile,
} from '../../../electron/core/index.ts';
import {
  CERTIFICATE_LIFETIME_MS,
  CERTIFICATE_RENEW_MS,
  senderCertificate,
} from '../../../electron/core/messaging/sealed.ts';
import { takeBundle } from '../../../shared/protocol/keys.ts';
import { cardOf, flushOutbox, introduce, newProfile } from '../../support/profiles.ts';
import { delivered, honestCertificate, sealWith } from '../../support/sealing.ts';

function count(profile: Profile, sql: string): number {
  return Number(profile.db.prepare(sql, { pluck: true }).get());
}

/** Bob, his contact Alice (with a session to him), and Mallory who also reached Bob with a real session. */
async function cast() {
  const { profile: alice } = await newProfile('Alice');
  const { profile: bob } = await newProfile('Bob');
  const { profile: mallory } = await newProfile('Mallory');
  await introduce(alice, bob, 0);
  addContact(mallory, cardOf(bob));
  await startSession(
    mallory,
    takeBundle(publishedKeys(bob.db, bob.account), 1),
    bob.account.accountId,
  );
  return { alice, bob, mallory };
}

/** Mallory's inner Signal message to Bob (a real PreKey message on her own session). */
async function innerFrom(mallory: Profile, bob: Profile, text: string) {
  queueText(mallory, bob.account.accountId, text);
  await encryptQueued(mallory);
  const [inner] = readyEnvelopes(mallory, 1);
  return inner!;
}

function aliceMessagesAt(bob: Profile, alice: Profile): string[] {
  const conversation = getContact(bob.db, alice.account.accountId).conversationId;
  return messagesPage(bob.db, conversation, 100).map((m) => m.body);
}

describe('sealed sender: every envelope is checked before its content is looked at', () => {
  it('a real conversation goes through sealed envelopes that name no sender', async () => {
    const { alice, bob } = await cast();
    queueText(alice, bob.account.accountId, 'hello Bob');
    const envelopes = await flushOutbox(alice);
    expect(Buffer.from(envelopes[0]!.body).includes(Buffer.from(alice.account.accountId))).toBe(
      false,
    );
    expect((await processEnvelopes(bob, envelopes)).map((o) => o.outcome)).toEqual(['stored']);
    expect(aliceMessagesAt(bob, alice)).toEqual(['hello Bob']);
  });

  it("a certificate claiming a contact's account id with the attacker's key is refused at once and never shown", async () => {
    const { alice, bob, mallory } = await cast();
    const inner = await innerFrom(mallory, bob, 'hi, it is Alice');
    const forged = await sealWith(mallory.account.identity, bob, inner, {
      ...honestCertificate(mallory.account.identity, mallory.account.accountId),
      claim: alice.account.accountId,
    });
    const outcomes = await processEnvelopes(bob, [delivered(forged)]);
    expect(outcomes).toEqual([
      expect.objectContaining({ outcome: 'rejected', error: 'FORGED_SENDER' }),
    ]);
    expect(aliceMessagesAt(bob, alice)).toEqual([]);
    expect(count(bob, 'SELECT count(*) FROM messages')).toBe(0);
    // Recorded without naming anyone: the claim was not proven.
    expect(
      bob.db.prepare('SELECT sender_account, error_code, attempts FROM failed_envelopes').all(),
    ).toEqual([{ sender_account: '', error_code: 'FORGED_SENDER', attempts: 3 }]);
    expect(Buffer.from(bob.state.getIdentity(alice.account.accountId)!.publicKey)).toEqual(
      Buffer.from(alice.account.identity.publicKey.serialize()),
    );
  });

  it('a certificate naming a key other than the one that sealed it does not open', async () => {
    const { alice, bob, mallory } = await cast();
    const inner = await innerFrom(mallory, bob, 'sealed by Mallory, certificate of Alice');
    // Mallory cannot sign as Alice; the best she can do is name Alice's key in a certificate she signs.
    const forged = await sealWith(mallory.account.identity, bob, inner, {
      ...honestCertificate(mallory.account.identity, alice.account.accountId),
      key: alice.account.identity.publicKey,
    });
    expect((await processEnvelopes(bob, [delivered(forged)]))[0]).toMatchObject({
      outcome: 'rejected',
      error: 'UNSEAL_FAILED',
    });
    expect(aliceMessagesAt(bob, alice)).toEqual([]);
  });

  it('a certificate chain signed by another key is refused', async () => {
    const { bob, mallory } = await cast();
    const inner = await innerFrom(mallory, bob, 'chain signed by a stranger');
    const other = IdentityKeyPair.generate();
    for (const cert of [
      // the "server" certificate signed by another key
      {
        ...honestCertificate(mallory.account.identity, mallory.account.accountId),
        rootSigner: other.privateKey,
      },
      // a server key other than the sender's own (properly signed by the sender)
      {
        ...honestCertificate(mallory.account.identity, mallory.account.accountId),
        serverKey: { publicKey: other.publicKey, privateKey: other.privateKey },
      },
    ]) {
      const sealed = await sealWith(mallory.account.identity, bob, inner, cert);
      expect((await processEnvelopes(bob, [delivered(sealed)]))[0]).toMatchObject({
        outcome: 'rejected',
        error: 'BAD_CERTIFICATE',
      });
    }
    expect(count(bob, 'SELECT count(*) FROM messages')).toBe(0);
  });

  it("an expired certificate is refused, judged by the relay's time, not the receiver's clock", async () => {
    const { bob, mallory } = await cast();
    const inner = await innerFrom(mallory, bob, 'old certificate');
    const expiration = Date.now() - 1000;
    const cert = {
      ...honestCertificate(mallory.account.identity, mallory.account.accountId),
      expiration,
    };
    const sealed = await sealWith(mallory.account.identity, bob, inner, cert);
    expect((await processEnvelopes(bob, [delivered(sealed)]))[0]).toMatchObject({
      outcome: 'rejected',
      error: 'CERT_EXPIRED',
    });
    // The same certificate on an envelope the relay stored before it expired is fine.
    const early = await sealWith(mallory.account.identity, bob, inner, cert);
    expect((await processEnvelopes(bob, [delivered(early, expiration - 1)]))[0]!.outcome).toBe(
      'stored',
    );
  });

  it("the sender's own certificates last 7 days and are checked at the envelope's server time", async () => {
    const { alice, bob } = await cast();
    queueText(alice, bob.account.accountId, 'late delivery');
    await encryptQueued(alice);
    const now = Date.now();
    const [ready] = await sealReady(alice, 10, 'all', [], now);
    const stale = {
      id: 'late-1',
      body: ready!.submission.body,
      serverTime: now + CERTIFICATE_LIFETIME_MS + 1,
    };
    expect((await processEnvelopes(bob, [stale]))[0]).toMatchObject({
      outcome: 'rejected',
      error: 'CERT_EXPIRED',
    });
    const fresh = {
      id: 'late-2',
      body: ready!.submission.body,
      serverTime: now + CERTIFICATE_LIFETIME_MS - 1,
    };
    expect((await processEnvelopes(bob, [fresh]))[0]!.outcome).toBe('stored');
  });

  it('a self-send (sealed by this very account and device) is refused', async () => {
    const { bob, mallory } = await cast();
    const inner = await innerFrom(mallory, bob, 'to myself');
    const sealed = await sealWith(
      bob.account.identity,
      bob,
      inner,
      honestCertificate(bob.account.identity, bob.account.accountId),
    );
    expect((await processEnvelopes(bob, [delivered(sealed)]))[0]).toMatchObject({
      outcome: 'rejected',
      error: 'SELF_SEND',
    });
  });

  it('a key that derives the id but is not the one pinned for that contact is refused (rule 3)', async () => {
    const { alice, bob } = await cast();
    // A profile from before self-certifying ids may have pinned another key for an id.
    bob.db
      .prepare('UPDATE identities SET public_key = ? WHERE account_id = ?')
      .run([IdentityKeyPair.generate().publicKey.serialize(), alice.account.accountId]);
    bob.state.clearCache();
    queueText(alice, bob.account.accountId, 'from the real Alice');
    const outcomes = await processEnvelopes(bob, await flushOutbox(alice));
    expect(outcomes).toEqual([
      expect.objectContaining({ outcome: 'rejected', error: 'FORGED_SENDER' }),
    ]);
    expect(aliceMessagesAt(bob, alice)).toEqual([]);
  });

  it('garbage, or an envelope sealed for someone else, is rejected at once (no retries)', async () => {
    const { alice, bob, mallory } = await cast();
    queueText(alice, bob.account.accountId, 'for Bob only');
    const [forBob] = await flushOutbox(alice);
    const garbage = delivered(Uint8Array.from([0x11, 1, 2, 3, 4, 5]));
    const outcomes = await processEnvelopes(mallory, [garbage, forBob!]);
    expect(outcomes.map((o) => [o.outcome, 'error' in o ? o.error : undefined])).toEqual([
      ['rejected', 'UNSEAL_FAILED'],
      ['rejected', 'UNSEAL_FAILED'],
    ]);
    expect((await processEnvelopes(mallory, [garbage]))[0]!.outcome).toBe('duplicate');
  });

  it('a stranger with a valid certificate is a new conversation, named only from inside the encrypted content', async () => {
    const { bob, mallory } = await cast();
    queueText(mallory, bob.account.accountId, 'hello, we have not met');
    expect((await processEnvelopes(bob, await flushOutbox(mallory))).map((o) => o.outcome)).toEqual(
      ['stored'],
    );
    expect(
      listConversations(bob.db)
        .map((c) => c.displayName)
        .sort(),
    ).toEqual(['Alice', 'Mallory']);
  });
});

describe("the sender's own certificate", () => {
  it('is cached, renewed when less than an hour remains, and names no display name', async () => {
    const { profile: alice } = await newProfile('Alice');
    const now = Date.now();
    const first = senderCertificate(alice, now);
    expect(first.expiration()).toBe(now + CERTIFICATE_LIFETIME_MS);
    expect(first.senderUuid()).toBe(alice.account.accountId);
    expect(first.senderE164()).toBeNull();
    expect(Buffer.from(first.serialize()).includes(Buffer.from('Alice'))).toBe(false);
    expect(senderCertificate(alice, now + CERTIFICATE_LIFETIME_MS - CERTIFICATE_RENEW_MS)).toBe(
      first,
    );
    const renewed = senderCertificate(
      alice,
      now + CERTIFICATE_LIFETIME_MS - CERTIFICATE_RENEW_MS + 1,
    );
    expect(renewed).not.toBe(first);
    expect(renewed.expiration()).toBeGreaterThan(first.expiration());
  });
});
