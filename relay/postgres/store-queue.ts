import type pg from 'pg';
import { storedEnvelopeOf } from '../delivery.ts';
import type { AckResult, NewEnvelope, StoreLimits, StoreResult } from '../storage.ts';
import type { Batcher, Queued } from './batcher.ts';
import { retryDeadlockOnce } from './deadlock.ts';
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
 * limits, with the acks pending then riding in it (migration 7). So a busy
 * node's stores share calls in proportion to how long a commit takes, and no
 * store ever waits for a timer: a relay connection handles its frames one
 * after another, so a wait that no other connection's store fills only
 * lowers what each connection can send
 * (docs/relay-operations.md#what-a-message-costs). After each commit the
 * stored envelopes go to `published` (the wakeups).
 */
export class StoreQueue {
  private queued: QueuedStore[] = [];
  private running = 0;
  private scheduled = false;

  constructor(
    private readonly pool: pg.Pool,
    private readonly acks: Batcher<Ack, AckResult>,
    private readonly published: (items: WakeItem[]) => void,
  ) {}

  add(envelopes: readonly NewEnvelope[], limits: StoreLimits): Promise<StoreResult[]> {
    return new Promise((resolve, reject) => {
      this.queued.push({ envelopes, limits, resolve, reject });
      this.schedule();
    });
  }

  /** Flushes at the end of this turn if stores wait and no store call runs. */
  private schedule(): void {
    if (this.scheduled || this.running > 0 || this.queued.length === 0) return;
    this.scheduled = true;
    setImmediate(() => {
      this.scheduled = false;
      if (this.running === 0) this.flush();
    });
  }

  /** Commits what is queued now, one transaction per set of limits (also at close, whatever runs). */
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
