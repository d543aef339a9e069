import { performance } from 'node:perf_hooks';
import {
  decryptWhisper,
  encryptWhisper,
  establishSession,
  type Party,
} from '../support/raw-session.ts';

// The end-to-end baseline: raw libsignal encrypting and decrypting the same
// texts with in-memory stores, no storage, no network, over the session
// bench/support/raw-session.ts sets up.

/** Encrypts then decrypts `texts`, returning the elapsed milliseconds. */
async function roundTrip(
  alice: Party,
  bob: Party,
  texts: readonly Uint8Array<ArrayBuffer>[],
): Promise<number> {
  const start = performance.now();
  const bodies: Uint8Array<ArrayBuffer>[] = [];
  for (const text of texts) bodies.push(await encryptWhisper(alice, bob, text));
  for (const body of bodies) await decryptWhisper(bob, alice, body);
  return performance.now() - start;
}

/**
 * Messages per second for raw libsignal over one established session:
 * N = texts.length, timed as encrypt all N then decrypt all N, after
 * `warmup` untimed round trips.
 */
export async function rawRoundTripRate(texts: readonly string[], warmup: number): Promise<number> {
  const encoder = new TextEncoder();
  const { alice, bob } = await establishSession(encoder.encode('hello'), encoder.encode('hi'));
  const bytes = texts.map((t) => encoder.encode(t));
  await roundTrip(alice, bob, bytes.slice(0, warmup));
  const ms = await roundTrip(alice, bob, bytes);
  return (texts.length / ms) * 1000;
}
