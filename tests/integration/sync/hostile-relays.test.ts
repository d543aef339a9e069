import { copyFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { publishedKeys } from '../../../electron/core/crypto/prekeys.ts';
import {
  addContactFromInvite,
  hasSession,
  ownDeliveryToken,
  type Profile,
  queueText,
} from '../../../electron/core/index.ts';
import { outboxSize } from '../../../electron/core/messaging/outbox.ts';
import { profileInvite } from '../../../electron/core/profile/invite.ts';
import { SyncEngine } from '../../../electron/core/sync/engine.ts';
import { setHomeRelay } from '../../../electron/core/sync/home-relay-setting.ts';
import { toBase64 } from '../../../shared/protocol/encoding.ts';
import { formatInvite } from '../../../shared/protocol/invite.ts';
import { takeBundle } from '../../../shared/protocol/keys.ts';
import { newProfile, tempDir } from '../../support/profiles.ts';
import { startRecordingRelay } from './support/recording-relay.ts';

// What a hostile relay (a contact's, or whoever writes a shared folder) can
// try against the engine: hand out someone else's keys under a contact's id,
// or replay an envelope. Neither gets a session or a second message.

const cleanups: (() => Promise<unknown>)[] = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

async function person(
  name: string,
  address: string,
): Promise<{ profile: Profile; engine: SyncEngine }> {
  const { profile } = await newProfile(name);
  setHomeRelay(profile, address);
  const engine = new SyncEngine(profile);
  cleanups.push(() => engine.close());
  await engine.registerToken();
  await engine.publishKeys();
  return { profile, engine };
}

describe('hostile relays against the engine', () => {
  it("a contact's relay handing out another key under the contact's id gets no session, and the message is not sent", async () => {
    const alice = await person('Alice', join(tempDir(), 'relay'));
    const { profile: bob } = await newProfile('Bob');
    const { profile: mallory } = await newProfile('Mallory');
    // The relay answers every fetch for Bob with Mallory's keys relabelled as Bob's.
    const forged = {
      ...takeBundle(publishedKeys(mallory.db, mallory.account)),
      accountId: bob.account.accountId,
    };
    const relay = await startRecordingRelay(undefined, (frame) =>
      frame.type === 'keys.fetch' ? { type: 'bundle', id: frame.id, bundle: forged } : undefined,
    );
    cleanups.push(() => relay.stop());
    addContactFromInvite(
      alice.profile,
      formatInvite({
        relay: relay.address,
        relayId: relay.relayId,
        accountId: bob.account.accountId,
        identityKey: toBase64(bob.account.identity.publicKey.serialize()),
        token: toBase64(ownDeliveryToken(bob)),
        name: 'Bob',
      }),
    );
    queueText(alice.profile, bob.account.accountId, 'for Bob only');
    const report = await alice.engine.sendOutbox();
    expect(report.sent).toBe(0);
    expect(hasSession(alice.profile, bob.account.accountId, 1)).toBe(false);
    expect(relay.frames().filter((f) => f.type === 'send.batch')).toEqual([]);
    expect(outboxSize(alice.profile)).toBe(1);
  });

  it('an envelope replayed into a shared folder under a new name is not stored twice', async () => {
    const root = join(tempDir(), 'relay');
    const alice = await person('Alice', root);
    const bob = await person('Bob', root);
    addContactFromInvite(alice.profile, profileInvite(bob.profile));
    addContactFromInvite(bob.profile, profileInvite(alice.profile));
    queueText(alice.profile, bob.profile.account.accountId, 'once');
    expect((await alice.engine.sendOutbox()).sent).toBe(1);
    const mailbox = join(root, 'mail', `${bob.profile.account.accountId}.1`);
    const [original] = readdirSync(mailbox);
    copyFileSync(
      join(mailbox, original!),
      join(mailbox, `${'9'.repeat(15)}-000000-${'R'.repeat(22)}.env`),
    );
    const report = await bob.engine.receive({ firstWaitMs: 1_000 });
    expect(report.stored).toBe(1);
    expect(report.stored + report.duplicates + report.rejected).toBe(2);
    expect(readdirSync(mailbox)).toEqual([]); // both acked
  });

  it('a relay over budget: nothing counts as a refusal, and the relay is not asked again before its retryAfterMs', async () => {
    const alice = await person('Alice', join(tempDir(), 'relay'));
    const { profile: bob } = await newProfile('Bob');
    const bundle = takeBundle(publishedKeys(bob.db, bob.account));
    const relay = await startRecordingRelay(undefined, (frame) => {
      if (frame.type === 'keys.fetch') return { type: 'bundle', id: frame.id, bundle };
      if (frame.type === 'send.batch') {
        return {
          type: 'error',
          id: frame.id,
          code: 'RELAY_ERR_OVER_BUDGET',
          message: 'over budget',
          retryAfterMs: 60_000,
        };
      }
      return undefined;
    });
    cleanups.push(() => relay.stop());
    addContactFromInvite(
      alice.profile,
      formatInvite({
        relay: relay.address,
        relayId: relay.relayId,
        accountId: bob.account.accountId,
        identityKey: toBase64(bob.account.identity.publicKey.serialize()),
        token: toBase64(ownDeliveryToken(bob)),
        name: 'Bob',
      }),
    );
    queueText(alice.profile, bob.account.accountId, 'later');
    for (let pass = 0; pass < 7; pass++)
      expect(await alice.engine.sendOutbox()).toMatchObject({ sent: 0, failed: [] });
    expect(relay.frames().filter((f) => f.type === 'send.batch')).toHaveLength(1);
    expect(outboxSize(alice.profile)).toBe(1);
    const status = alice.profile.db.prepare('SELECT status FROM messages', { pluck: true }).all();
    expect(status).toEqual(['queued']);
  });
});
