import { describe, expect, it } from 'vitest';
import {
  listConversations,
  messagesPage,
  processEnvelopes,
  Profile,
  queueText,
  type IncomingEnvelope,
} from '../../../electron/core/index.ts';
import { blockContact } from '../../../electron/core/contacts/block.ts';
import {
  MAX_UNPROCESSED_ENVELOPES,
  rejectedEnvelopeCount,
  retryUnprocessed,
  unprocessedEnvelopeCount,
} from '../../../electron/core/messaging/receive.ts';
import { flushOutbox, introduce, newProfile } from '../../support/profiles.ts';
import { delivered, undecryptableSeal } from '../../support/sealing.ts';

// The unprocessed table (migration 0008): an envelope whose inner layer fails
// is kept raw in the profile by the commit that counts the failure, so the
// relay copy can be acked; it is retried from the table, at most 3 attempts.

/** A genuine seal from `from` around a Whisper message `to` holds no session for: DECRYPT_FAILED. */
async function undecryptable(from: Profile, to: Profile): Promise<IncomingEnvelope> {
  return delivered(await undecryptableSeal(from, to));
}

function bodies(profile: Profile): string[] {
  return listConversations(profile.db).flatMap((c) =>
    messagesPage(profile.db, c.id, 1000).map((m) => m.body),
  );
}

const count = (profile: Profile, sql: string) =>
  Number(profile.db.prepare(sql, { pluck: true }).get());

describe('envelopes kept for a retry (unprocessed_envelopes)', () => {
  it('a message whose session arrives later is kept, then processed from the table (after a restart)', async () => {
    const { profile: alice } = await newProfile('Alice');
    const bobProfile = await newProfile('Bob');
    let bob = bobProfile.profile;
    await introduce(alice, bob);
    queueText(alice, bob.account.accountId, 'first');
    expect((await processEnvelopes(bob, await flushOutbox(alice))).map((o) => o.outcome)).toEqual([
      'stored',
    ]);
    // Bob answers, so Alice's next message is a plain Whisper message on the session.
    queueText(bob, alice.account.accountId, 'reply');
    await processEnvelopes(alice, await flushOutbox(bob));
    queueText(alice, bob.account.accountId, 'second');
    const [second] = await flushOutbox(alice);

    // Bob's session is not there when it arrives (set aside: the state the message needs comes later).
    const session = bob.db.prepare('SELECT address, record, updated_at FROM sessions').all();
    bob.db.prepare('DELETE FROM sessions').run();
    await bob.close();
    bob = await Profile.open(bobProfile.dir, { passphrase: bobProfile.passphrase });
    expect(await processEnvelopes(bob, [second!])).toMatchObject([
      { outcome: 'retry', error: 'DECRYPT_FAILED' },
    ]);
    expect(unprocessedEnvelopeCount(bob.db)).toBe(1);
    expect(bodies(bob)).not.toContain('second');

    // The session arrives; after a restart the kept copy opens from the table.
    const restore = bob.db.prepare(
      'INSERT INTO sessions (address, record, updated_at) VALUES (?, ?, ?)',
    );
    for (const row of session as {
      address: string;
      record: Uint8Array<ArrayBuffer>;
      updated_at: number;
    }[])
      restore.run([row.address, row.record, row.updated_at]);
    await bob.close();
    bob = await Profile.open(bobProfile.dir, { passphrase: bobProfile.passphrase });
    expect(await retryUnprocessed(bob)).toMatchObject([
      { envelopeId: second!.id, outcome: 'stored' },
    ]);
    expect(bodies(bob)).toContain('second');
    expect(unprocessedEnvelopeCount(bob.db)).toBe(0);
    expect(count(bob, 'SELECT count(*) FROM failed_envelopes')).toBe(0);
    // The relay redelivering it now (its ack was lost) is a duplicate; nothing is stored twice.
    expect((await processEnvelopes(bob, [second!]))[0]!.outcome).toBe('duplicate');
    expect(bodies(bob).filter((b) => b === 'second')).toHaveLength(1);
    await bob.close();
  });

  it('one that never opens is rejected on its third attempt, counted, and leaves the table; a redelivery then is a duplicate', async () => {
    const { profile: alice } = await newProfile('Alice');
    const { profile: bob } = await newProfile('Bob');
    await introduce(alice, bob);
    const junk = await undecryptable(alice, bob);
    expect((await processEnvelopes(bob, [junk, junk])).map((o) => o.outcome)).toEqual([
      'retry',
      'duplicate',
    ]);
    // Redeliveries while it is kept are not attempts.
    for (let i = 0; i < 3; i++)
      expect((await processEnvelopes(bob, [junk]))[0]!.outcome).toBe('duplicate');
    expect(await retryUnprocessed(bob)).toMatchObject([
      { outcome: 'retry', error: 'DECRYPT_FAILED' },
    ]);
    expect(rejectedEnvelopeCount(bob.db)).toBe(0);
    expect(await retryUnprocessed(bob)).toMatchObject([
      { outcome: 'rejected', error: 'DECRYPT_FAILED' },
    ]);
    expect(rejectedEnvelopeCount(bob.db)).toBe(1);
    expect(unprocessedEnvelopeCount(bob.db)).toBe(0);
    expect(await retryUnprocessed(bob)).toEqual([]);
    expect((await processEnvelopes(bob, [junk]))[0]!.outcome).toBe('duplicate');
    expect(rejectedEnvelopeCount(bob.db)).toBe(1);
  });

  it('a forged seal is rejected at once and never kept; a relay replaying a kept id with another body changes nothing', async () => {
    const { profile: alice } = await newProfile('Alice');
    const { profile: bob } = await newProfile('Bob');
    await introduce(alice, bob);
    const forged: IncomingEnvelope = {
      id: 'forged-seal',
      body: new Uint8Array(200).fill(7),
      serverTime: Date.now(),
    };
    expect(await processEnvelopes(bob, [forged])).toMatchObject([
      { outcome: 'rejected', error: 'UNSEAL_FAILED' },
    ]);
    expect(unprocessedEnvelopeCount(bob.db)).toBe(0);

    const junk = await undecryptable(alice, bob);
    await processEnvelopes(bob, [junk]);
    const keptBody = () =>
      bob.db
        .prepare('SELECT body FROM unprocessed_envelopes WHERE envelope_id = ?', { pluck: true })
        .get([junk.id]);
    const before = keptBody();
    // A hostile relay reuses the kept id for a real message: a duplicate of the kept copy, not a substitution.
    queueText(alice, bob.account.accountId, 'smuggled under a kept id');
    const [real] = await flushOutbox(alice);
    expect(await processEnvelopes(bob, [{ ...real!, id: junk.id }])).toMatchObject([
      { outcome: 'duplicate' },
    ]);
    expect(keptBody()).toEqual(before);
    expect(bodies(bob)).not.toContain('smuggled under a kept id');
    // Under its own id the same message is stored as usual.
    expect((await processEnvelopes(bob, [real!]))[0]!.outcome).toBe('stored');
  });

  it('a kept envelope from a contact who is blocked meanwhile is rejected on retry (BLOCKED_SENDER) and dropped', async () => {
    const { profile: alice } = await newProfile('Alice');
    const { profile: bob } = await newProfile('Bob');
    await introduce(alice, bob);
    await processEnvelopes(bob, [await undecryptable(alice, bob)]);
    blockContact(bob, alice.account.accountId);
    expect(await retryUnprocessed(bob)).toMatchObject([
      { outcome: 'rejected', error: 'BLOCKED_SENDER' },
    ]);
    expect(unprocessedEnvelopeCount(bob.db)).toBe(0);
  });

  it(`a hostile contact cannot grow the table past ${MAX_UNPROCESSED_ENVELOPES}: the oldest are rejected first`, async () => {
    const { profile: mallory } = await newProfile('Mallory');
    const { profile: bob } = await newProfile('Bob');
    await introduce(mallory, bob);
    const flood: IncomingEnvelope[] = [];
    for (let i = 0; i < MAX_UNPROCESSED_ENVELOPES + 10; i++)
      flood.push(await undecryptable(mallory, bob));
    const t0 = Date.now();
    for (let i = 0; i < flood.length; i += 100) {
      const outcomes = await processEnvelopes(bob, flood.slice(i, i + 100), { now: t0 + i });
      expect(outcomes.every((o) => o.outcome === 'retry')).toBe(true);
    }
    expect(unprocessedEnvelopeCount(bob.db)).toBe(MAX_UNPROCESSED_ENVELOPES);
    expect(rejectedEnvelopeCount(bob.db)).toBe(10);
    const kept = new Set(
      bob.db.prepare('SELECT envelope_id FROM unprocessed_envelopes', { pluck: true }).all(),
    );
    const evicted = flood.filter((e) => !kept.has(e.id));
    expect(evicted).toHaveLength(10);
    // The ten evicted are from the first (oldest) batch; every later one is still kept.
    expect(evicted.every((e) => flood.indexOf(e) < 100)).toBe(true);
    expect(flood.slice(100).every((e) => kept.has(e.id))).toBe(true);
    // An evicted envelope redelivered is a duplicate, not a way back in.
    expect((await processEnvelopes(bob, [evicted[0]!]))[0]!.outcome).toBe('duplicate');
    expect(unprocessedEnvelopeCount(bob.db)).toBe(MAX_UNPROCESSED_ENVELOPES);
  });
});
