import { join } from 'node:path';
import { addContact, Profile, queueText } from '../../electron/core/index.ts';
import { setSetting } from '../../electron/core/profile/settings.ts';
import { SyncEngine } from '../../electron/core/sync/engine.ts';
import { BENCH_KDF } from '../support/config.ts';
import { tempDir } from '../support/temp.ts';

/** A bench profile whose home relay is a WebSocket relay, with its engine. */
export interface Peer {
  readonly profile: Profile;
  engine: SyncEngine;
}

/** Creates a profile on `relayUrl`, publishes its keys, and returns it with its engine. */
export async function createPeer(name: string, relayUrl: string): Promise<Peer> {
  const dir = join(tempDir('sotto-bench-sync-'), 'profile');
  const profile = await Profile.create(dir, {
    displayName: name,
    passphrase: `${name} passphrase`,
    kdfCost: BENCH_KDF,
  });
  setSetting(profile.db, 'relay', relayUrl);
  const engine = new SyncEngine(profile);
  await engine.publishKeys();
  return { profile, engine };
}

/** Each becomes the other's contact, reachable on `relayUrl`. */
export function introduce(a: Peer, b: Peer, relayUrl: string): void {
  for (const [from, to] of [
    [a, b],
    [b, a],
  ] as const) {
    addContact(from.profile, {
      accountId: to.profile.account.accountId,
      identityKey: to.profile.account.identity.publicKey.serialize(),
      displayName: to.profile.account.displayName,
      relay: relayUrl,
    });
  }
}

/**
 * `from` greets `to` and `to`'s delivery receipt comes back, so `from`'s
 * session is acknowledged and its later messages are Whisper (type 2)
 * messages, as in an ongoing conversation.
 */
export async function handshake(from: Peer, to: Peer): Promise<void> {
  queueText(from.profile, to.profile.account.accountId, 'hello');
  await sendAll(from);
  await receiveUntil(to, 1);
  await sendAll(to); // the delivery receipt
  await from.engine.receive({ firstWaitMs: 10_000, idleMs: 50 });
}

/** ~150 characters (ASCII): a typical short chat message. */
export function benchText(i: number): string {
  return `Message ${i}: running a little late, I will be at the station around seven. Could you save me a seat and grab two coffees? Thanks a lot!`
    .padEnd(150, '.')
    .slice(0, 150);
}

/** Queues `count` bench texts from `from` to `to`. */
export function queueTexts(from: Peer, to: Peer, count: number): void {
  const accountId = to.profile.account.accountId;
  for (let i = 0; i < count; i++) queueText(from.profile, accountId, benchText(i));
}

/**
 * Runs sendOutbox until the outbox is empty (a pass stops early when the relay
 * is unavailable or refuses, e.g. rate limiting); returns the passes taken.
 */
export async function sendAll(peer: Peer, maxPasses = 20): Promise<number> {
  for (let pass = 1; pass <= maxPasses; pass++) {
    const report = await peer.engine.sendOutbox();
    if (report.failed.length > 0) throw new Error(`${report.failed.length} messages failed`);
    if (report.waiting === 0) return pass;
  }
  throw new Error(`outbox not empty after ${maxPasses} sendOutbox passes`);
}

/** What a receive loop saw. */
export interface Received {
  readonly stored: number;
  /** performance.now() when the batch that reached `count` was committed and acked. */
  readonly doneAt: number;
  readonly other: number;
}

/**
 * Calls `receive` until `count` messages are stored; the end time is taken in
 * `onBatch`, right after the batch that completed the count was committed (and
 * acked), not after the final idle wait.
 */
export async function receiveUntil(
  peer: Peer,
  count: number,
  firstWaitMs = 30_000,
): Promise<Received> {
  let stored = 0;
  let other = 0;
  let doneAt = 0;
  while (stored < count) {
    const report = await peer.engine.receive({
      firstWaitMs,
      idleMs: 50,
      onBatch: (outcomes) => {
        for (const o of outcomes) {
          if (o.outcome === 'stored') stored++;
          else other++;
        }
        if (stored >= count && doneAt === 0) doneAt = performance.now();
      },
    });
    const seen =
      report.stored + report.duplicates + report.receipts + report.rejected + report.retry;
    if (seen === 0) throw new Error(`receive stalled at ${stored}/${count} stored`);
  }
  return { stored, doneAt, other };
}

/** Closes engines and profiles (errors are ignored: this is cleanup). */
export async function closePeers(...peers: readonly (Peer | undefined)[]): Promise<void> {
  for (const peer of peers) {
    if (!peer) continue;
    await peer.engine.close().catch(() => undefined);
    await peer.profile.close().catch(() => undefined);
  }
}
