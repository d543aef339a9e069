import type pg from 'pg';
import { storedEnvelopeOf } from '../delivery.ts';
import type { AckResult, NewEnvelope, StoreLimits, StoreResult } from '../storage.ts';
import type { Batcher, Queued } from './batcher.ts';
import { retryDeadlockOnce } from './deadlock.ts';
import { Gathering } from './gathering.ts';
import { postgresMailboxes, type Ack } from './mailboxes.ts';
import type { WakeItem } from './wake-payload.ts';

/**
 * Pending acks ride in a store call once the oldest has waited this long
 * (they go alone at ACK_WINDOW_MS, 30, if no store came): riding in every
 * store split a node's acks into calls of one or two, and the ack's work in
 * the call costs about what its own call did (0.4 ms at 150/s:
 * docs/relay-operations.md#what-a-message-costs); gathered for 20-30 ms they
 * are one share of one store call.
 */
export const ACK_RIDE_AFTER_MS = 20;

type QueuedStore = {
  readonly envelopes: readonly NewEnvelope[];
  readonly limits: StoreLimits;
  readonly resolve: (results: StoreResult[]) => void;
  readonly reject: (error: Error) => void;
};

/** What a store batch stored, for the wakeup: each envelope as its row now holds it when the store told its seq. */
function storedItems(all: readonly NewEnvelope[], results: readonly StoreResult[]): WakeItem[] {
  return all.flatMap((envelope, i): WakeItem[] => {
    const result = results[i];
    if (result?.kind !== 'stored') return [];
    const stored = storedEnvelopeOf(envelope, result);
    return [
      stored === undefined ? { mailbox: envelope.to } : { mailbox: envelope.to, envelope: stored },
    ];
  });
}

/**
 * A node's submits on their way to PostgreSQL. A store goes out in the
 * event-loop turn it came in unless one of the node's store calls is still
 * running; then it waits for that call to end and goes with every store that
 * came meanwhile: one statement (one transaction, one WAL flush) per set of
 * limits, with the acks pending then riding in it (migration 7). When that
 * call has just ended and few envelopes wait, the next waits up to
 * GATHER_MS for more (relay/postgres/gathering.ts), so a busy node sends
 * fewer, larger calls; a store on an idle node, a full call, and a sender
 * whose stores only come in answer to the last call's results
 * (docs/relay-operations.md#gathering-stores) go at once. After each
 * commit the stored envelopes go to `published` (the wakeups).
 */
export class StoreQueue {
  private queued: QueuedStore[] = [];
  private queuedEnvelopes = 0;
  private running = 0;
  /** Cancels the flush to come (at this turn's end, or a gathering wait's); undefined when none is. */
  private cancelScheduled: (() => void) | undefined;

  /** `gathering`: tests pass their own (a clock they step, or waits turned off). */
  constructor(
    private readonly pool: pg.Pool,
    private readonly acks: Batcher<Ack, AckResult>,
    private readonly published: (items: WakeItem[]) => void,
    private readonly gathering = new Gathering(),
  ) {}

  add(envelopes: readonly NewEnvelope[], limits: StoreLimits): Promise<StoreResult[]> {
    return new Promise((resolve, reject) => {
      this.queued.push({ envelopes, limits, resolve, reject });
      this.queuedEnvelopes += envelopes.length;
      // A wait whose call filled up ends: the flush comes at this turn's end instead.
      if (this.gathering.arrived(this.queuedEnvelopes)) this.unschedule();
      this.schedule();
    });
  }

  /** Flushes at the end of this turn, or after a gathering wait, if stores wait and no store call runs. */
  private schedule(): void {
    if (this.cancelScheduled !== undefined || this.running > 0 || this.queued.length === 0) return;
    // Only flush starts a call, and it cancels this: no call runs when it fires.
    const delay = this.gathering.delay(this.queuedEnvelopes);
    if (delay === 0) {
      const turn = setImmediate(() => this.flush());
      this.cancelScheduled = () => clearImmediate(turn);
    } else {
      const timer = setTimeout(() => this.flush(), delay);
      this.cancelScheduled = () => clearTimeout(timer);
    }
  }

  private unschedule(): void {
    this.cancelScheduled?.();
    this.cancelScheduled = undefined;
  }

  /** Commits what is queued now, one transaction per set of limits (also at close, whatever runs or waits). */
  flush(): void {
    this.unschedule();
    this.gathering.ended();
    const queued = this.queued;
    this.queued = [];
    this.queuedEnvelopes = 0;
    const groups = new Map<string, QueuedStore[]>();
    for (const store of queued) {
      const key = `${store.limits.mailboxQuota}/${store.limits.maxStorageBytes}`;
      groups.set(key, [...(groups.get(key) ?? []), store]);
    }
    // The pending acks ride in the first group's call: one commit for both.
    let acks = groups.size > 0 ? this.acks.takeAged(ACK_RIDE_AFTER_MS) : [];
    for (const batch of groups.values()) {
      void this.commit(batch, acks);
      acks = [];
    }
  }

  private async commit(
    batch: readonly QueuedStore[],
    acks: readonly Queued<Ack, AckResult>[],
  ): Promise<void> {
    const all = batch.flatMap((store) => store.envelopes);
    const limits = batch[0]!.limits;
    let results: StoreResult[];
    this.running += 1;
    try {
      // One statement, so one autocommit transaction: no BEGIN and COMMIT round trips.
      if (acks.length === 0)
        results = await retryDeadlockOnce(() => postgresMailboxes.store(this.pool, all, limits));
      else {
        const requests = acks.map((ack) => ack.request);
        const answers = await retryDeadlockOnce(() =>
          postgresMailboxes.ackAndStore(this.pool, requests, all, limits),
        );
        acks.forEach((ack, i) => ack.resolve(answers.acks[i]!));
        results = answers.stores;
      }
    } catch (error) {
      const failure = error instanceof Error ? error : new Error('storage failure');
      batch.forEach((store) => store.reject(failure));
      // Neither half happened: the acks get their own call (a store's failure is not theirs).
      if (acks.length > 0) void this.acks.answer(acks);
      return;
    } finally {
      this.running -= 1;
      this.gathering.callEnded();
      this.schedule();
    }
    // After the commit, never inside it (docs/relay-operations.md#cross-node-delivery).
    this.published(storedItems(all, results));
    let at = 0;
    for (const store of batch) {
      store.resolve(results.slice(at, at + store.envelopes.length));
      at += store.envelopes.length;
    }
  }
}
