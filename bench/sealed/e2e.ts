import { randomBytes } from 'node:crypto';
import { performance } from 'node:perf_hooks';
import { processEnvelopes, type Profile, queueText } from '../../electron/core/index.ts';
import { processInnerMessagesForBench } from '../../electron/core/messaging/receive.ts';
import { benchProfile, benchText, flushInner, flushSealed, introduce } from '../receive/pair.ts';
import type { Throughput } from '../receive/raw-libsignal.ts';
import { decryptWhisper, encryptWhisper, establishSession } from '../support/raw-session.ts';

// One-to-one end to end, in process (no relay: the relay bench covers the
// network): compose → encrypt (committed with the session advance) → seal →
// mark sent → unseal and check the certificate → decrypt → commit. The
// unsealed variant is the same harness without the seal (inner Signal
// messages, sender taken on trust); raw libsignal is encrypt + decrypt with
// in-memory stores.

/** Whether the harness seals. */
export type Path = 'sealed' | 'unsealed';

/** One batch end to end; returns the ms spent receiving (unseal, decrypt, commit). */
async function roundTrip(
  path: Path,
  alice: Profile,
  bob: Profile,
  from: number,
  count: number,
): Promise<number> {
  for (let i = from; i < from + count; i++) queueText(alice, bob.account.accountId, benchText(i));
  let received: number;
  let outcomes;
  if (path === 'sealed') {
    const envelopes = await flushSealed(alice);
    received = performance.now();
    outcomes = await processEnvelopes(bob, envelopes);
  } else {
    const envelopes = await flushInner(alice);
    received = performance.now();
    outcomes = await processInnerMessagesForBench(bob, envelopes);
  }
  const ms = performance.now() - received;
  const bad = outcomes.find((o) => o.outcome !== 'stored');
  if (bad) throw new Error(`envelope not stored: ${bad.outcome}`);
  return ms;
}

/** End to end, and the receiving side alone (same run). */
export interface PathThroughput {
  readonly endToEnd: Throughput;
  readonly receive: Throughput;
}

/** `messages` texts from Alice to Bob in batches of `batch`, timed after `warmup` untimed ones. */
export async function sottoEndToEnd(
  path: Path,
  messages: number,
  warmup: number,
  batch: number,
): Promise<PathThroughput> {
  const alice = await benchProfile('Alice');
  const bob = await benchProfile('Bob');
  try {
    await introduce(alice, bob);
    // Handshake both ways (always sealed: the unsealed receive path cannot learn a new sender's key).
    queueText(alice, bob.account.accountId, 'hello');
    await processEnvelopes(bob, await flushSealed(alice));
    queueText(bob, alice.account.accountId, 'hi');
    await processEnvelopes(alice, await flushSealed(bob));
    for (let i = 0; i < warmup; i += batch)
      await roundTrip(path, alice, bob, i, Math.min(batch, warmup - i));
    const start = performance.now();
    let receiveMs = 0;
    for (let i = 0; i < messages; i += batch)
      receiveMs += await roundTrip(path, alice, bob, warmup + i, Math.min(batch, messages - i));
    const ms = performance.now() - start;
    return {
      endToEnd: { messages, ms, perSecond: (messages / ms) * 1000 },
      receive: { messages, ms: receiveMs, perSecond: (messages / receiveMs) * 1000 },
    };
  } finally {
    await alice.close();
    await bob.close();
  }
}

/** Raw libsignal: encrypt then decrypt each message with in-memory stores. */
export async function rawEndToEnd(
  messages: number,
  warmup: number,
  bytes: number,
): Promise<Throughput> {
  const { alice, bob } = await establishSession(randomBytes(bytes), randomBytes(bytes));
  const one = async () =>
    decryptWhisper(bob, alice, await encryptWhisper(alice, bob, randomBytes(bytes)));
  for (let i = 0; i < warmup; i++) await one();
  const start = performance.now();
  for (let i = 0; i < messages; i++) await one();
  const ms = performance.now() - start;
  return { messages, ms, perSecond: (messages / ms) * 1000 };
}
