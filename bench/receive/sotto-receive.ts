import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { CiphertextMessageType } from '@signalapp/libsignal-client';
import {
  addContact,
  encryptQueued,
  type IncomingEnvelope,
  markSent,
  processEnvelopes,
  Profile,
  publishedKeys,
  queueText,
  readyEnvelopes,
  startSession,
} from '../../electron/core/index.ts';
import { takeBundle } from '../../shared/protocol/keys.ts';
import { BENCH_KDF } from '../support/config.ts';
import { tempDir } from '../support/temp.ts';
import type { Throughput } from './raw-libsignal.ts';

async function benchProfile(name: string, sessionCacheSize: number | undefined): Promise<Profile> {
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
  };
}

/** As tests/support/profiles.ts `introduce`: contacts both ways, `from` starts a session. */
async function introduce(from: Profile, to: Profile): Promise<void> {
  addContact(from, cardOf(to));
  addContact(to, cardOf(from));
  await startSession(from, takeBundle(publishedKeys(to.db, to.account), 0));
}

let envelopeCounter = 0;

/** Encrypts everything queued and hands it over as a relay would. */
async function flush(sender: Profile): Promise<IncomingEnvelope[]> {
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

async function deliver(
  to: Profile,
  envelopes: readonly IncomingEnvelope[],
  batch: number,
): Promise<number> {
  let ms = 0;
  for (let i = 0; i < envelopes.length; i += batch) {
    const start = performance.now();
    const outcomes = await processEnvelopes(to, envelopes.slice(i, i + batch));
    ms += performance.now() - start;
    const bad = outcomes.find((o) => o.outcome !== 'stored');
    if (bad) throw new Error(`envelope not stored: ${bad.outcome}`);
  }
  return ms;
}

/** ~110 characters: the encoded content is ~200 bytes of JSON (padded to 320). */
function text(i: number): string {
  return `Message ${i}: see you tomorrow at the station, I will bring the tickets and something to eat for the trip.`.padEnd(
    110,
    '.',
  );
}

/**
 * Two real profiles; Alice sends `warmup + messages` texts to Bob over an
 * established session (Whisper messages). Only Bob's `processEnvelopes` calls
 * (decrypt + commit, `batch` envelopes each) are timed, after `warmup`
 * untimed envelopes.
 */
export async function sottoReceiveDecrypts(
  messages: number,
  warmup: number,
  batch: number,
  sessionCacheSize?: number,
): Promise<Throughput> {
  const alice = await benchProfile('Alice', sessionCacheSize);
  const bob = await benchProfile('Bob', sessionCacheSize);
  try {
    await introduce(alice, bob);
    // Handshake both ways, so Alice's session is acknowledged and she sends Whisper messages.
    queueText(alice, bob.account.accountId, 'hello');
    await deliver(bob, await flush(alice), batch);
    queueText(bob, alice.account.accountId, 'hi');
    await deliver(alice, await flush(bob), batch);

    for (let i = 0; i < warmup + messages; i++) queueText(alice, bob.account.accountId, text(i));
    const envelopes = await flush(alice);
    if (envelopes.length !== warmup + messages)
      throw new Error(`expected ${warmup + messages} envelopes, got ${envelopes.length}`);
    if (envelopes.some((e) => e.type !== (CiphertextMessageType.Whisper as number)))
      throw new Error('expected Whisper messages');

    await deliver(bob, envelopes.slice(0, warmup), batch);
    const ms = await deliver(bob, envelopes.slice(warmup), batch);
    return { messages, ms, perSecond: (messages / ms) * 1000 };
  } finally {
    await alice.close();
    await bob.close();
  }
}
