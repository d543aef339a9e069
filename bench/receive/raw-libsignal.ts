import { randomBytes } from 'node:crypto';
import { performance } from 'node:perf_hooks';
import { decryptWhisper, encryptWhisper, establishSession } from '../support/raw-session.ts';

/** Decrypt throughput of one run. */
export interface Throughput {
  readonly messages: number;
  readonly ms: number;
  readonly perSecond: number;
}

/**
 * Establishes a session both ways (PreKey message, then a reply, so the
 * sender's later messages are plain Whisper messages), pre-encrypts
 * `warmup + messages` plaintexts of `bytes` bytes, then times decrypting
 * `messages` of them after `warmup` untimed ones.
 */
export async function rawLibsignalDecrypts(
  messages: number,
  warmup: number,
  bytes: number,
): Promise<Throughput> {
  const { alice, bob } = await establishSession(randomBytes(bytes), randomBytes(bytes));

  const bodies: Uint8Array<ArrayBuffer>[] = [];
  for (let i = 0; i < warmup + messages; i++)
    bodies.push(await encryptWhisper(alice, bob, randomBytes(bytes)));
  for (const body of bodies.slice(0, warmup)) await decryptWhisper(bob, alice, body);

  const start = performance.now();
  for (const body of bodies.slice(warmup)) await decryptWhisper(bob, alice, body);
  const ms = performance.now() - start;
  return { messages, ms, perSecond: (messages / ms) * 1000 };
}
