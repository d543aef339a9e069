import { describe, expect, it } from 'vitest';
import { takeBundle } from '../../../shared/protocol/keys.ts';
import {
  addContact,
  listConversations,
  messagesPage,
  Profile,
  processEnvelopes,
  publishedKeys,
  queueText,
  searchMessages,
  startSession,
  type IncomingEnvelope,
} from '../../../electron/core/index.ts';
import { cardOf, flushOutbox, introduce, newProfile } from '../../support/profiles.ts';

const PER_SIDE = 1000;
const CHUNK = 50;

function allMessages(profile: Profile): string[] {
  const [conversation] = listConversations(profile.db);
  return messagesPage(profile.db, conversation!.id, 10 * PER_SIDE).map(
    (m) => `${m.outgoing ? 'out' : 'in'}:${m.body}`,
  );
}

async function deliver(to: Profile, envelopes: IncomingEnvelope[]): Promise<number> {
  let stored = 0;
  for (let i = 0; i < envelopes.length; i += 30) {
    const outcomes = await processEnvelopes(to, envelopes.slice(i, i + 30));
    for (const o of outcomes) {
      expect(o.outcome).toBe('stored');
      stored += 1;
    }
  }
  return stored;
}

describe('two profiles talking in-process', () => {
  it('exchange 1,000 messages each way across a close and reopen; each decrypts exactly once', async () => {
    const alice = await newProfile('Alice');
    const bob = await newProfile('Bob');
    let a = alice.profile;
    let b = bob.profile;
    await introduce(a, b);

    let storedAtBob = 0;
    let storedAtAlice = 0;
    for (let sent = 0; sent < PER_SIDE; sent += CHUNK) {
      if (sent === PER_SIDE / 2) {
        await a.close();
        await b.close();
        a = await Profile.open(alice.dir, { passphrase: alice.passphrase });
        b = await Profile.open(bob.dir, { passphrase: bob.passphrase });
      }
      for (let i = sent; i < sent + CHUNK; i++)
        queueText(a, b.account.accountId, `from alice #${i}`);
      storedAtBob += await deliver(b, await flushOutbox(a));
      for (let i = sent; i < sent + CHUNK; i++) queueText(b, a.account.accountId, `from bob #${i}`);
      storedAtAlice += await deliver(a, await flushOutbox(b));
    }

    expect(storedAtBob).toBe(PER_SIDE);
    expect(storedAtAlice).toBe(PER_SIDE);
    const atBob = allMessages(b);
    const atAlice = allMessages(a);
    expect(atBob).toHaveLength(2 * PER_SIDE);
    expect(new Set(atBob).size).toBe(2 * PER_SIDE);
    expect(atBob).toContain(`in:from alice #${PER_SIDE - 1}`);
    expect(atAlice).toContain(`in:from bob #0`);
    expect(atAlice.map((m) => m.replace(/^(in|out):/, '')).sort()).toEqual(
      atBob.map((m) => m.replace(/^(in|out):/, '')).sort(),
    );
    expect(searchMessages(b.db, 'alice #777').map((m) => m.body)).toContain('from alice #777');
    await a.close();
    await b.close();
  });
});

describe("the sender's name in a message", () => {
  it('names a contact who has no name yet, and never replaces the name the user gave', async () => {
    const { profile: a } = await newProfile('Alice');
    const { profile: b } = await newProfile('Bob');
    const { profile: c } = await newProfile('Carol');
    // Bob knows Alice as "Mum" (his choice); Carol is unknown to him.
    addContact(b, { ...cardOf(a), displayName: 'Mum' });
    addContact(a, cardOf(b));
    addContact(c, cardOf(b));
    await startSession(a, takeBundle(publishedKeys(b.db, b.account), 0), b.account.accountId);
    await startSession(c, takeBundle(publishedKeys(b.db, b.account), 1), b.account.accountId);
    queueText(a, b.account.accountId, 'from Alice');
    queueText(c, b.account.accountId, 'from Carol');
    await deliver(b, [...(await flushOutbox(a)), ...(await flushOutbox(c))]);

    const names = listConversations(b.db)
      .map((conversation) => conversation.displayName)
      .sort();
    expect(names).toEqual(['Carol', 'Mum']);
  });
});
