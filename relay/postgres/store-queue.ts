import { performance } from 'node:perf_hooks';
import type pg from 'pg';
import { storedEnvelopeOf } from '../delivery.ts';
import type { AckResult, NewEnvelope, StoreLimits, StoreResult } from '../storage.ts';
import type { Batcher, Queued } from './batcher.ts';
import { postgresMailboxes, type Ack } from './mailboxes.ts';
import type { WakeItem } from './wake-payload.ts';

/**
 * The longest a store waits for others to share its commit (one WAL flush,
 * one call: docs/relay-operations.md#what-a-message-costs).
 */
export const STORE_WINDOW_MS = 3;
/**
 * Pending acks ride in a store call once the oldest has waited this long
 * (they go alone at ACK_WINDOW_MS, 30, if no store came): riding in every
 * store split a node's acks into calls of one or two, and the ack's work in
 * the call costs about what its own call did (0.4 ms at 150/s:
 * docs/relay-operations.md#what-a-message-costs); gathered for 20-30 ms they
 * are one share of one store call.
 */
export const ACK_RIDE_AFTER_MS = 20;
/** Weight of the newest gap in the running average of the gaps between stores. */
const GAP_WEIGHT = 0.2;

/**
 * How long the first store of a batch waits for the next, given the running
 * average gap between a node's stores (ms): the window while another store is
 * more likely than not to come within it (arrivals at random at that rate:
 * window ≥ gap · ln 2, so from about 230 stores a second with 3 ms; at 320/s
 * 62% do), else nothing: the store goes out in this event-loop turn, as every
 * store did before the window, so an idle or quiet node adds no latency.
 */
export function storeWaitMs(averageGapMs: number, windowMs = STORE_WINDOW_MS): number {
  return averageGapMs * Math.LN2 <= windowMs ? windowMs : 0;
}

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
 * A node's submits on their way to PostgreSQL: the stores of one window with
 * the same limits go out as one statement (one transaction, one WAL flush),
 * with the acks pending then riding in it (migration 7); after each commit
 * the stored envelopes go to `published` (the wakeups).
 */
export class StoreQueue {
  private queued: QueuedStore[] = [];
  private lastArrival = Number.NEGATIVE_INFINITY;
  private averageGapMs = Number.POSITIVE_INFINITY;

  /** `clock` and `windowMs`: tests only (a clock they step, a window no busy machine outlasts). */
  constructor(
    private readonly pool: pg.Pool,
    private readonly acks: Batcher<Ack, AckResult>,
    private readonly published: (items: WakeItem[]) => void,
    private readonly clock = () => performance.now(),
    private readonly windowMs = STORE_WINDOW_MS,
  ) {}

  add(envelopes: readonly NewEnvelope[], limits: StoreLimits): Promise<StoreResult[]> {
    const now = this.clock();
    const gap = now - this.lastArrival;
    this.lastArrival = now;
    // Infinity the first time: no wait until stores have come close together.
    this.averageGapMs = Number.isFinite(this.averageGapMs)
      ? this.averageGapMs + GAP_WEIGHT * (gap - this.averageGapMs)
      : gap;
    return new Promise((resolve, reject) => {
      if (this.queued.length === 0) {
        const wait = storeWaitMs(this.averageGapMs, this.windowMs);
        if (wait === 0) setImmediate(() => this.flush());
        else setTimeout(() => this.flush(), wait);
      }
      this.queued.push({ envelopes, limits, resolve, reject });
    });
  }

  /** Commits what is queued, one transaction per set of limits (also at close). */
  flush(): void {
    const queued = this.queued;
    this.queued = [];
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
    try {
      // One statement, so one autocommit transaction: no BEGIN and COMMIT round trips.
      if (acks.length === 0) results = await postgresMailboxes.store(this.pool, all, limits);
      else {
        const answers = await postgresMailboxes.ackAndStore(
          this.pool,
          acks.map((ack) => ack.request),
          all,
          limits,
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
