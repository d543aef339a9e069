import { performance } from 'node:perf_hooks';
import {
  type IncomingEnvelope,
  processEnvelopes,
  type Profile,
  queueText,
} from '../../electron/core/index.ts';
import { benchProfile, benchText as text, flushSealed as flush, introduce } from './pair.ts';
import type { Throughput } from './raw-libsignal.ts';

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

/**
 * Two real profiles; Alice sends `warmup + messages` texts to Bob over an
 * established session (sealed Whisper messages). Only Bob's `processEnvelopes`
 * calls (unseal + certificate checks + decrypt + commit, `batch` envelopes
 * each) are timed, after `warmup` untimed envelopes.
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

    await deliver(bob, envelopes.slice(0, warmup), batch);
    const ms = await deliver(bob, envelopes.slice(warmup), batch);
    return { messages, ms, perSecond: (messages / ms) * 1000 };
  } finally {
    await alice.close();
    await bob.close();
  }
}
