import pg from 'pg';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { Batcher } from '../../../../relay/postgres/batcher.ts';
import { postgresMailboxes, type Ack } from '../../../../relay/postgres/mailboxes.ts';
import {
  STORE_WINDOW_MS,
  StoreQueue,
  storeWaitMs,
} from '../../../../relay/postgres/store-queue.ts';
import type { AckResult, NewEnvelope } from '../../../../relay/storage.ts';
import type { WakeItem } from '../../../../relay/postgres/wake-payload.ts';
import { LIMITS, box, counters, envelope, withDatabase } from './hot-path-fixtures.ts';

// The store window (relay/postgres/store-queue.ts): a node's stores wait for
// each other only while they arrive closer together than the window, so an
// idle node's store goes out at once and a busy node's stores share commits.
// The clock is the test's: it says how far apart the stores came, and the
// window is long enough that no busy machine outlasts it between two turns.

afterEach(() => {
  vi.restoreAllMocks();
});

const turn = () => new Promise((resolve) => setImmediate(resolve));

describe('the store window', () => {
  it('waits only while stores come closer together than the window, and never longer', () => {
    expect(storeWaitMs(Number.POSITIVE_INFINITY)).toBe(0);
    // Another store within the window is more likely than not from a gap of window / ln 2.
    expect(storeWaitMs(STORE_WINDOW_MS / Math.LN2 + 0.01)).toBe(0);
    expect(storeWaitMs(STORE_WINDOW_MS / Math.LN2 - 0.01)).toBe(STORE_WINDOW_MS);
    expect(storeWaitMs(0.2)).toBe(STORE_WINDOW_MS);
  });

  withDatabase(
    'stores of separate turns share one call while they come close together; after a pause each goes alone',
    async (_storage, admin, url) => {
      const pool = new pg.Pool({ connectionString: url, max: 2 });
      let at = 0;
      const published: WakeItem[] = [];
      const acks = new Batcher<Ack, AckResult>(30, () => Promise.resolve([]));
      const queue = new StoreQueue(
        pool,
        acks,
        (items) => published.push(...items),
        () => at,
        60_000,
      );
      try {
        const store = vi.spyOn(postgresMailboxes, 'store');
        const alice = box();
        const send = (gapMs: number, sent: NewEnvelope = envelope(alice)) => {
          at += gapMs;
          return queue.add([sent], LIMITS);
        };
        // Idle: the first store, then one 200 s later, each in its own call at
        // once (a wait would outlast the test's time limit).
        await send(0);
        await send(200_000);
        expect(store).toHaveBeenCalledTimes(2);
        // Busy (1 ms apart): the running average of the gaps falls (200 s, 160,
        // 128, 102, 82…); from the fourth store on it is under 60 s / ln 2, and
        // the stores of four turns wait for each other and share one call.
        const busy: Promise<unknown>[] = [];
        for (let i = 0; i < 7; i++) {
          busy.push(send(1));
          await turn();
        }
        expect(store).toHaveBeenCalledTimes(5);
        queue.flush();
        await Promise.all(busy);
        expect(store).toHaveBeenCalledTimes(6);
        expect(store.mock.calls.at(-1)![1]).toHaveLength(4);
        expect(published).toHaveLength(9);
        expect(await counters(admin)).toEqual({ usage: 450, held: 450, wrongMailboxes: 0 });
      } finally {
        queue.flush();
        await pool.end();
      }
    },
  );
});
