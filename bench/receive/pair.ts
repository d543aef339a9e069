import { join } from 'node:path';
import {
  addContact,
  encryptQueued,
  type IncomingEnvelope,
  markSent,
  ownDeliveryToken,
  Profile,
  publishedKeys,
  readyEnvelopes,
  sealReady,
  startSession,
} from '../../electron/core/index.ts';
import type { InnerEnvelope } from '../../electron/core/messaging/receive.ts';
import { takeBundle } from '../../shared/protocol/keys.ts';
import { BENCH_KDF } from '../support/config.ts';
import { tempDir } from '../support/temp.ts';

// Two real profiles for the receive and sealed benches (as tests/support/profiles.ts,
// which cannot be imported here because it registers vitest hooks).

/** A bench profile in a temp dir (`sessionCacheSize` undefined: the default cache). */
export async function benchProfile(name: string, sessionCacheSize?: number): Promise<Profile> {
  const dir = join(tempDir('sotto-bench-receive-'), 'profile');
  const options = sessionCacheSize === undefined ? {} : { sessionCacheSize };
  return Profile.create(dir, {
    displayName: name,
    passphrase: `${name} passphrase`,
    kdfCost: BENCH_KDF,
    ...options,
  });
}

function cardOf(profile: Profile) {
  return {
    accountId: profile.account.accountId,
    identityKey: profile.account.identity.publicKey.serialize(),
    displayName: profile.account.displayName,
    relay: 'wss://relay.bench.invalid',
    token: ownDeliveryToken(profile),
  };
}

/** Contacts both ways (with tokens); `from` starts a session. */
export async function introduce(from: Profile, to: Profile): Promise<void> {
  addContact(from, cardOf(to));
  addContact(to, cardOf(from));
  await startSession(from, takeBundle(publishedKeys(to.db, to.account), 0), to.account.accountId);
}

let envelopeCounter = 0;

/** Encrypts and seals everything queued and hands it over as a relay would (sealed, no sender). */
export async function flushSealed(sender: Profile): Promise<IncomingEnvelope[]> {
  await encryptQueued(sender, 100_000);
  const ready = await sealReady(sender, 100_000, 'all', []);
  markSent(
    sender,
    ready.map((e) => e.outboxId),
  );
  const serverTime = Date.now();
  return ready.map((e) => {
    envelopeCounter += 1;
    return {
      id: `bench-${envelopeCounter}-${e.submission.clientMessageId}`,
      body: e.submission.body,
      serverTime,
    };
  });
}

/** The unsealed baseline: the inner Signal messages only, with the sender given on trust. */
export async function flushInner(sender: Profile): Promise<InnerEnvelope[]> {
  await encryptQueued(sender, 100_000);
  const ready = readyEnvelopes(sender, 100_000);
  markSent(
    sender,
    ready.map((e) => e.outboxId),
  );
  return ready.map((e) => {
    envelopeCounter += 1;
    return {
      id: `bench-${envelopeCounter}-${e.clientMessageId}`,
      sender: sender.account.accountId,
      senderDevice: sender.account.deviceId,
      type: e.type,
      body: e.body,
    };
  });
}

/** ~110 characters: the encoded content is ~200 bytes of JSON (padded to 320). */
export function benchText(i: number): string {
  return `Message ${i}: see you tomorrow at the station, I will bring the tickets and something to eat for the trip.`.padEnd(
    110,
    '.',
  );
}
