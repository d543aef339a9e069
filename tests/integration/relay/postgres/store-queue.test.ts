import pg from 'pg';
import { afterEach, describe, expect, vi } from 'vitest';
import { Batcher } from '../../../../relay/postgres/batcher.ts';
import { postgresMailboxes, type Ack } from '../../../../relay/postgres/mailboxes.ts';
import { GATHER_FULL, Gathering } from '../../../../relay/postgres/gathering.ts';
import { StoreQueue } from '../../../../relay/postgres/store-queue.ts';
import { PostgresRelayStorage } from '../../../../relay/postgres/storage.ts';
import type { AckResult, NewEnvelope, StoreResult } from '../../../../relay/storage.ts';
import type { WakeItem } from '../../../../relay/postgres/wake-payload.ts';
import { LIMITS, box, counters, envelope, withDatabase } from './hot-path-fixtures.ts';

// The store queue (relay/postgres/store-queue.ts): a node's store goes out in
// the turn it came in unless one of its store calls still runs; the stores
// that come meanwhile wait for that call and then share one. No timer: the
// test holds the running call open with a gate it opens itself. Right after
// a call, a store waits for company (relay/postgres/gathering.ts): those
// tests step the gathering's clock themselves.

afterEach(() => {
  vi.restoreAllMocks();
});

const turn = () => new Promise((resolve) => setImmediate(resolve));

/** A store queue on its own pool whose first store call waits for `open()` before it runs. */
function gatedQueue(url: string, firstCall: 'runs' | 'fails') {
  const pool = new pg.Pool({ connectionString: url, max: 2 });
  const published: WakeItem[] = [];
  const acks = new Batcher<Ack, AckResult>(60_000, () => Promise.resolve([]));
  const queue = new StoreQueue(pool, acks, (items) => published.push(...items));
  const real = postgresMailboxes.store.bind(postgresMailboxes);
  let open = (): void => undefined;
  const gate = new Promise<void>((resolve) => (open = resolve));
  const store = vi
    .spyOn(postgresMailboxes, 'store')
    .mockImplementationOnce(async (db, envelopes, limits): Promise<StoreResult[]> => {
      await gate;
      if (firstCall === 'fails') throw new Error('connection reset');
      return await real(db, envelopes, limits);
    });
  const send = (sent: NewEnvelope = envelope(box())) => queue.add([sent], LIMITS);
  const close = async () => {
    queue.flush();
    await pool.end();
  };
  /** One store whose call runs (held at the gate) and one that waits for it. */
  const runningAndWaiting = async () => {
    const running = send();
    await turn();
    const waiting = send();
    await turn();
    return { running, waiting };
  };
  return { queue, store, send, runningAndWaiting, open, published, close };
}

/** A test on a fresh database with a gated store queue (closed after). */
const withQueue = (
  name: string,
  firstCall: 'runs' | 'fails',
  body: (node: ReturnType<typeof gatedQueue>, admin: pg.Client) => Promise<void>,
) =>
  withDatabase(name, async (_storage, admin, url) => {
    const node = gatedQueue(url, firstCall);
    try {
      await body(node, admin);
    } finally {
      await node.close();
    }
  });

describe('the store queue', () => {
  withQueue(
    'a store goes out in its own turn; stores that come while a call runs wait for it, then share one call',
    'runs',
    async (node, admin) => {
      const first = node.send();
      await turn();
      expect(node.store).toHaveBeenCalledTimes(1);
      // Three stores in three later turns while the first call runs: none goes alone.
      const waiting: Promise<StoreResult[]>[] = [];
      for (let i = 0; i < 3; i++) {
        waiting.push(node.send());
        await turn();
      }
      expect(node.store).toHaveBeenCalledTimes(1);
      node.open();
      expect((await first).map((r) => r.kind)).toEqual(['stored']);
      const results = await Promise.all(waiting);
      expect(results.flat().map((r) => r.kind)).toEqual(['stored', 'stored', 'stored']);
      expect(node.store).toHaveBeenCalledTimes(2);
      expect(node.store.mock.calls[1]![1]).toHaveLength(3);
      // Nothing runs any more: the next store goes out in its own turn again.
      await node.send();
      expect(node.store).toHaveBeenCalledTimes(3);
      expect(node.published).toHaveLength(5);
      expect(await counters(admin)).toEqual({ usage: 250, held: 250, wrongMailboxes: 0 });
    },
  );

  withQueue(
    'a failed call fails only its own stores; the ones that waited for it still go',
    'fails',
    async (node, admin) => {
      const { running, waiting } = await node.runningAndWaiting();
      node.open();
      await expect(running).rejects.toThrow('connection reset');
      expect((await waiting).map((r) => r.kind)).toEqual(['stored']);
      expect(node.store).toHaveBeenCalledTimes(2);
      expect(node.published).toHaveLength(1);
      expect(await counters(admin)).toEqual({ usage: 50, held: 50, wrongMailboxes: 0 });
    },
  );

  withQueue(
    'flush (at close) sends what waits even while a call runs',
    'runs',
    async (node, admin) => {
      const { running, waiting } = await node.runningAndWaiting();
      node.queue.flush();
      expect((await waiting).map((r) => r.kind)).toEqual(['stored']);
      expect(node.store).toHaveBeenCalledTimes(2);
      node.open();
      expect((await running).map((r) => r.kind)).toEqual(['stored']);
      expect(await counters(admin)).toEqual({ usage: 100, held: 100, wrongMailboxes: 0 });
    },
  );
});

/** A store queue on its own pool whose gathering waits `gatherMs` (a real timer) but judges time on a clock the test steps. */
function gatheringQueue(url: string, gatherMs: number, full = GATHER_FULL) {
  const pool = new pg.Pool({ connectionString: url, max: 2 });
  let at = 0;
  const gathering = new Gathering(gatherMs, full, () => at);
  const acks = new Batcher<Ack, AckResult>(60_000, () => Promise.resolve([]));
  const queue = new StoreQueue(pool, acks, () => undefined, gathering);
  const store = vi.spyOn(postgresMailboxes, 'store');
  return {
    gathering,
    store,
    send: () => queue.add([envelope(box())], LIMITS),
    flush: () => queue.flush(),
    step: (ms: number) => {
      at += ms;
    },
    close: async () => {
      queue.flush();
      await pool.end();
    },
  };
}

describe('gathering stores right after a call', () => {
  withDatabase(
    'a store that comes just after a call waits; stores in the second half of the wait share its call, a full call goes at once',
    async (_storage, admin, url) => {
      // A minute's wait: only a full call (3 envelopes) ends it within the test.
      const node = gatheringQueue(url, 60_000, 3);
      try {
        await node.send();
        expect(node.store).toHaveBeenCalledTimes(1);
        const first = node.send();
        await turn();
        node.step(40_000);
        const second = node.send();
        await turn();
        expect(node.store).toHaveBeenCalledTimes(1);
        const third = node.send();
        const results = await Promise.all([first, second, third]);
        expect(results.flat().map((r) => r.kind)).toEqual(['stored', 'stored', 'stored']);
        expect(node.store).toHaveBeenCalledTimes(2);
        expect(node.store.mock.calls[1]![1]).toHaveLength(3);
        expect(node.gathering.willWait).toBe(true);
        expect(await counters(admin)).toEqual({ usage: 200, held: 200, wrongMailboxes: 0 });
      } finally {
        await node.close();
      }
    },
  );

  withDatabase(
    'a sender whose stores only answer the last call is held five times, then goes in its own turn; a second later it is probed again',
    async (_storage, admin, url) => {
      // The clock never moves during a wait: every store comes in its first half.
      const node = gatheringQueue(url, 20);
      try {
        await node.send();
        for (let i = 1; i <= 5; i++) {
          const held = node.send();
          await turn();
          expect(node.store).toHaveBeenCalledTimes(i);
          await held;
          expect(node.store).toHaveBeenCalledTimes(i + 1);
        }
        const free = node.send();
        await turn();
        expect(node.store).toHaveBeenCalledTimes(7);
        await free;
        // A second later (one more call ends then), the next store is held again.
        node.step(1_000);
        await node.send();
        const probed = node.send();
        await turn();
        expect(node.store).toHaveBeenCalledTimes(8);
        expect((await probed).map((r) => r.kind)).toEqual(['stored']);
        expect(node.store).toHaveBeenCalledTimes(9);
        expect(await counters(admin)).toEqual({ usage: 450, held: 450, wrongMailboxes: 0 });
      } finally {
        await node.close();
      }
    },
  );

  withDatabase(
    'a node opened with storeGatherMs 0 (--store-gather-ms 0) never holds a store; by default it does',
    async (storage, admin, url) => {
      const off = await PostgresRelayStorage.open(url, { storeGatherMs: 0 });
      const store = vi.spyOn(postgresMailboxes, 'store');
      try {
        for (const [node, held] of [
          [off, false],
          [storage, true],
        ] as const) {
          const calls = store.mock.calls.length;
          await node.storeEnvelopes([envelope(box())], LIMITS);
          const next = node.storeEnvelopes([envelope(box())], LIMITS);
          await turn();
          expect(store.mock.calls.length - calls).toBe(held ? 1 : 2);
          expect((await next).map((r) => r.kind)).toEqual(['stored']);
        }
        expect(await counters(admin)).toEqual({ usage: 200, held: 200, wrongMailboxes: 0 });
      } finally {
        await off.close();
      }
    },
  );

  withDatabase(
    'flush (at close) sends a store that waits for company',
    async (_storage, admin, url) => {
      const node = gatheringQueue(url, 60_000);
      try {
        await node.send();
        const waiting = node.send();
        await turn();
        expect(node.store).toHaveBeenCalledTimes(1);
        node.flush();
        expect((await waiting).map((r) => r.kind)).toEqual(['stored']);
        expect(node.store).toHaveBeenCalledTimes(2);
        expect(await counters(admin)).toEqual({ usage: 100, held: 100, wrongMailboxes: 0 });
      } finally {
        await node.close();
      }
    },
  );
});
