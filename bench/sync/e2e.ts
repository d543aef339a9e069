import { performance } from 'node:perf_hooks';
import { SyncEngine } from '../../electron/core/sync/engine.ts';
import {
  closePeers,
  createPeer,
  handshake,
  introduce,
  type Peer,
  queueTexts,
  receiveUntil,
  sendAll,
} from './peers.ts';

/** One timed delivery run. */
export interface DeliveryRun {
  readonly messages: number;
  readonly ms: number;
  readonly perSecond: number;
  /** sendOutbox passes A needed (more than 1: a pass stopped early, e.g. on rate limiting). */
  readonly sendPasses: number;
  /** ms A's sendOutbox took (encrypting and sending everything). */
  readonly sendMs: number;
}

function run(messages: number, ms: number, sendPasses: number, sendMs: number): DeliveryRun {
  return { messages, ms, perSecond: (messages / ms) * 1000, sendPasses, sendMs };
}

/**
 * Benchmark 1: Alice has `messages` texts queued for Bob over an acknowledged
 * session (Whisper messages). Timed from the start of Alice's sendOutbox to
 * the commit of the batch that brings Bob's stored count to `messages`;
 * Bob's receive loop runs concurrently in the same process.
 */
export async function endToEnd(relayUrl: string, messages: number): Promise<DeliveryRun> {
  let alice: Peer | undefined;
  let bob: Peer | undefined;
  try {
    alice = await createPeer('Alice', relayUrl);
    bob = await createPeer('Bob', relayUrl);
    introduce(alice, bob, relayUrl);
    await handshake(alice, bob);
    queueTexts(alice, bob, messages);

    const start = performance.now();
    const sender = alice;
    const sending = (async () => {
      const passes = await sendAll(sender);
      return { passes, ms: performance.now() - start };
    })();
    const [received, sent] = await Promise.all([receiveUntil(bob, messages), sending]);
    return run(received.stored, received.doneAt - start, sent.passes, sent.ms);
  } finally {
    await closePeers(alice, bob);
  }
}

/**
 * Benchmark 2: Bob publishes his keys and goes offline; Alice (no session
 * with Bob yet, so every envelope is a PreKey message) sends `messages`
 * texts. Timed: a new SyncEngine for Bob (construction, connection,
 * authentication) draining the mailbox until all are stored.
 */
export async function freshDrain(relayUrl: string, messages: number): Promise<DeliveryRun> {
  let alice: Peer | undefined;
  let bob: Peer | undefined;
  try {
    alice = await createPeer('Alice', relayUrl);
    bob = await createPeer('Bob', relayUrl);
    introduce(alice, bob, relayUrl);
    await bob.engine.close();

    queueTexts(alice, bob, messages);
    const sendStart = performance.now();
    const passes = await sendAll(alice);
    const sendMs = performance.now() - sendStart;

    const start = performance.now();
    bob.engine = new SyncEngine(bob.profile);
    const received = await receiveUntil(bob, messages, 10_000);
    return run(received.stored, received.doneAt - start, passes, sendMs);
  } finally {
    await closePeers(alice, bob);
  }
}
