import { describe, expect, it } from 'vitest';
import { Profile, processEnvelopes, queueText } from '../../../electron/core/index.ts';
import { flushOutbox, introduce, newProfile } from '../../support/profiles.ts';

/** Everything the protocol and history hold, as comparable bytes. */
function stateOf(profile: Profile) {
  const db = profile.db;
  return {
    sessions: db
      .prepare('SELECT address, hex(record) AS record FROM sessions ORDER BY address')
      .all(),
    identities: db
      .prepare('SELECT account_id, hex(public_key) AS key FROM identities ORDER BY account_id')
      .all(),
    preKeys: db.prepare('SELECT id FROM pre_keys ORDER BY id', { pluck: true }).all(),
    kyberPreKeys: db.prepare('SELECT id FROM kyber_pre_keys ORDER BY id', { pluck: true }).all(),
    messages: db.prepare('SELECT count(*) FROM messages', { pluck: true }).get(),
    envelopes: db.prepare('SELECT count(*) FROM processed_envelopes', { pluck: true }).get(),
  };
}

describe('a batch commits whole or not at all (R2)', () => {
  it('a commit failing mid-batch advances no protocol state and stores nothing; the same ciphertexts decrypt after reopening', async () => {
    const alice = await newProfile('Alice');
    const bob = await newProfile('Bob');
    await introduce(alice.profile, bob.profile);
    for (let i = 0; i < 30; i++)
      queueText(alice.profile, bob.profile.account.accountId, `batch message ${i}`);
    const envelopes = await flushOutbox(alice.profile);

    const before = stateOf(bob.profile);
    // A real SQLite failure inside the batch's transaction: the 20th message row aborts it.
    bob.profile.db.exec(`
      CREATE TEMP TRIGGER injected_fault BEFORE INSERT ON messages
      WHEN (SELECT count(*) FROM messages) >= 19
      BEGIN SELECT RAISE(ABORT, 'injected fault'); END`);
    await expect(processEnvelopes(bob.profile, envelopes)).rejects.toThrow('injected fault');
    expect(stateOf(bob.profile)).toEqual(before);

    // The same process can retry (its session cache was not advanced either)...
    bob.profile.db.exec('DROP TRIGGER injected_fault');
    const retried = await processEnvelopes(bob.profile, envelopes.slice(0, 5));
    expect(retried.map((o) => o.outcome)).toEqual(Array(5).fill('stored'));

    // ...and after a reopen the rest decrypt too, exactly once.
    await bob.profile.close();
    const reopened = await Profile.open(bob.dir, { passphrase: bob.passphrase });
    const outcomes = await processEnvelopes(reopened, envelopes);
    expect(outcomes.filter((o) => o.outcome === 'stored')).toHaveLength(25);
    expect(outcomes.filter((o) => o.outcome === 'duplicate')).toHaveLength(5);
    expect(reopened.db.prepare('SELECT count(*) FROM messages', { pluck: true }).get()).toBe(30);
    await reopened.close();
  });

  it('a one-time prekey consumed by a failed batch is still there to consume on retry', async () => {
    const alice = await newProfile('Alice');
    const bob = await newProfile('Bob');
    await introduce(alice.profile, bob.profile);
    queueText(alice.profile, bob.profile.account.accountId, 'session start');
    const envelopes = await flushOutbox(alice.profile);
    const preKeysBefore = stateOf(bob.profile).preKeys;
    bob.profile.db.exec(
      "CREATE TEMP TRIGGER injected_fault BEFORE INSERT ON processed_envelopes BEGIN SELECT RAISE(ABORT, 'injected fault'); END",
    );
    await expect(processEnvelopes(bob.profile, envelopes)).rejects.toThrow('injected fault');
    expect(stateOf(bob.profile).preKeys).toEqual(preKeysBefore);
    bob.profile.db.exec('DROP TRIGGER injected_fault');
    expect((await processEnvelopes(bob.profile, envelopes))[0]!.outcome).toBe('stored');
    expect(stateOf(bob.profile).preKeys).toHaveLength(preKeysBefore.length - 1);
  });
});
