import { randomBytes } from 'node:crypto';
import pg from 'pg';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { Batcher } from '../../../../relay/postgres/batcher.ts';
import { postgresMailboxes, type Ack } from '../../../../relay/postgres/mailboxes.ts';
import { ACK_RIDE_AFTER_MS, StoreQueue } from '../../../../relay/postgres/store-queue.ts';
import { PostgresRelayStorage } from '../../../../relay/postgres/storage.ts';
import type { AckResult, Mailbox, NewEnvelope } from '../../../../relay/storage.ts';
import { waitFor } from '../../../support/blob-http.ts';
import { startTestPostgres } from '../../../support/postgres.ts';
import { LIMITS, box, counters, envelope, idOf, withDatabase } from './hot-path-fixtures.ts';

// Migration 7 (relay/postgres/ack-store-migration.ts) against a real server:
// a node's pending acks ride in its next store call (relay_ack_store) once
// they waited ACK_RIDE_AFTER_MS, judged
// as relay_ack_batch judges them, in one durable commit with the stores.
// Hostile acks change nothing for the stores of the call, nor the other way.

afterEach(() => {
  vi.restoreAllMocks();
});

/**
 * A node's store queue and ack batcher on their own pool, on a clock the test
 * steps (ack windows of a minute: no timer fires while the test runs).
 */
function nodeOn(url: string) {
  const pool = new pg.Pool({ connectionString: url, max: 2 });
  pool.on('error', () => undefined);
  let at = 0;
  const clock = () => at;
  const acks = new Batcher<Ack, AckResult>(
    60_000,
    (batch) => postgresMailboxes.deleteAckedBatch(pool, batch),
    clock,
  );
  const queue = new StoreQueue(pool, acks, () => undefined);
  return {
    store(afterMs: number, envelopes: NewEnvelope[]) {
      at += afterMs;
      return queue.add(envelopes, LIMITS);
    },
    ack(afterMs: number, mailbox: Mailbox, envelopeIds: string[]) {
      at += afterMs;
      return acks.add({ mailbox, envelopeIds });
    },
    async close() {
      acks.flush();
      await pool.end();
    },
  };
}

describe('PostgreSQL acks riding in the next store call (migration 7)', () => {
  withDatabase(
    'acks that waited 20 ms ride in the next store call; younger ones wait, none gets a call of its own',
    async (_storage, admin, url) => {
      const node = nodeOn(url);
      try {
        const combined = vi.spyOn(postgresMailboxes, 'ackAndStore');
        const alone = vi.spyOn(postgresMailboxes, 'deleteAckedBatch');
        const [alice, bob] = [box(), box()];
        const [a1, a2] = (await node.store(0, [envelope(alice), envelope(alice)])).map(idOf);
        const acked = node.ack(1_000, alice, [a1!, a2!]);
        // 5 ms old: the store goes alone, the ack keeps waiting for others.
        expect((await node.store(5, [envelope(bob)])).map((r) => r.kind)).toEqual(['stored']);
        expect(combined).not.toHaveBeenCalled();
        // ACK_RIDE_AFTER_MS old: it rides in the next store's call.
        const [stored] = await node.store(ACK_RIDE_AFTER_MS, [envelope(bob)]);
        expect(await acked).toEqual({ kind: 'deleted', count: 2 });
        expect(stored).toEqual(expect.objectContaining({ kind: 'stored', seq: 2 }));
        expect(combined).toHaveBeenCalledTimes(1);
        expect(alone).not.toHaveBeenCalled();
        expect(await counters(admin)).toEqual({ usage: 100, held: 100, wrongMailboxes: 0 });
      } finally {
        await node.close();
      }
    },
  );

  withDatabase(
    'an ack naming an envelope another device owns is refused alone; the stores of its call are stored',
    async (storage, admin) => {
      const phone = box();
      const laptop: Mailbox = { accountId: phone.accountId, deviceId: 2 };
      const [p1, l1] = (
        await storage.storeEnvelopes([envelope(phone), envelope(laptop)], LIMITS)
      ).map(idOf);
      const { acks, stores } = await postgresMailboxes.ackAndStore(
        admin,
        [
          // The phone turned hostile: its own id and the laptop's.
          { mailbox: phone, envelopeIds: [p1!, l1!] },
          { mailbox: laptop, envelopeIds: [l1!] },
        ],
        [envelope(phone), envelope(laptop)],
        LIMITS,
      );
      expect(acks).toEqual([{ kind: 'forbidden' }, { kind: 'deleted', count: 1 }]);
      expect(stores.map((s) => s.kind)).toEqual(['stored', 'stored']);
      // The refused ack deleted nothing, not even its own id: p1 and the new one wait.
      expect((await storage.listQueued(phone, 0, 10)).map((e) => e.id)).toEqual([
        p1,
        idOf(stores[0]),
      ]);
      expect((await storage.listQueued(laptop, 0, 10)).map((e) => e.seq)).toEqual([2]);
      expect(await counters(admin)).toEqual({ usage: 150, held: 150, wrongMailboxes: 0 });
    },
  );

  withDatabase(
    'acks of rows already deleted, replayed or unknown delete nothing and leave the counters exact',
    async (storage, admin) => {
      const alice = box();
      const [a1] = (await storage.storeEnvelopes([envelope(alice)], LIMITS)).map(idOf);
      expect(await storage.deleteAcked(alice, [a1!])).toEqual({ kind: 'deleted', count: 1 });
      const { acks, stores } = await postgresMailboxes.ackAndStore(
        admin,
        [
          { mailbox: alice, envelopeIds: [a1!] },
          { mailbox: alice, envelopeIds: [a1!, randomBytes(16).toString('base64url')] },
          { mailbox: box(), envelopeIds: [] },
        ],
        [envelope(alice)],
        LIMITS,
      );
      expect(acks).toEqual([
        { kind: 'deleted', count: 0 },
        { kind: 'deleted', count: 0 },
        { kind: 'deleted', count: 0 },
      ]);
      // Seqs stay gapless and increasing past the deleted row.
      expect(stores).toEqual([expect.objectContaining({ kind: 'stored', seq: 2 })]);
      expect(await counters(admin)).toEqual({ usage: 50, held: 50, wrongMailboxes: 0 });
    },
  );

  withDatabase(
    'stores refused by the quotas in the call of acks: the acks still delete, and free the mailbox first',
    async (storage, admin) => {
      const alice = box();
      const tight = { mailboxQuota: 2, maxStorageBytes: 1e9 };
      const [a1, a2] = (
        await storage.storeEnvelopes([envelope(alice), envelope(alice)], tight)
      ).map(idOf);
      const full = await postgresMailboxes.ackAndStore(
        admin,
        [{ mailbox: alice, envelopeIds: [a1!] }],
        [envelope(alice), envelope(alice)],
        tight,
      );
      // The ack freed one slot of the quota before the stores were judged.
      expect(full.acks).toEqual([{ kind: 'deleted', count: 1 }]);
      expect(full.stores.map((s) => s.kind)).toEqual(['stored', 'mailbox-full']);
      // The relay-wide total is read before the call's acks free it: refused, ack applied.
      const storageFull = await postgresMailboxes.ackAndStore(
        admin,
        [{ mailbox: alice, envelopeIds: [a2!] }],
        [envelope(alice, 60)],
        { mailboxQuota: 10, maxStorageBytes: 150 },
      );
      expect(storageFull.acks).toEqual([{ kind: 'deleted', count: 1 }]);
      expect(storageFull.stores).toEqual([{ kind: 'storage-full' }]);
      expect(await storage.countQueued(alice)).toBe(1);
      expect(await counters(admin)).toEqual({ usage: 50, held: 50, wrongMailboxes: 0 });
    },
  );

  withDatabase(
    'two nodes’ calls that each ack the mailbox the other stores to, both held up: no deadlock',
    async (storage, admin, url) => {
      // One account's devices 1, 2, 3: mailbox key order is device order.
      const first = box();
      const [m1, m2] = [2, 3].map((deviceId): Mailbox => ({ ...first, deviceId }));
      const [e1, e2] = (
        await storage.storeEnvelopes([envelope(first), envelope(m1!), envelope(m2!)], LIMITS)
      )
        .slice(1)
        .map(idOf);
      const nodes = [
        new pg.Client({ connectionString: url }),
        new pg.Client({ connectionString: url }),
      ];
      await Promise.all(nodes.map((node) => node.connect()));
      try {
        // Another store holds the first mailbox, which both calls' stores need first.
        await admin.query('BEGIN');
        await admin.query(
          'SELECT 1 FROM mailbox WHERE account_id = $1 AND device_id = 1 FOR UPDATE',
          [first.accountId],
        );
        // Node 1 acks device 3's envelope and stores to 1 and 2; node 2 the other way round.
        const calls = [
          postgresMailboxes.ackAndStore(
            nodes[0]!,
            [{ mailbox: m2!, envelopeIds: [e2!] }],
            [envelope(first), envelope(m1!)],
            LIMITS,
          ),
          postgresMailboxes.ackAndStore(
            nodes[1]!,
            [{ mailbox: m1!, envelopeIds: [e1!] }],
            [envelope(first), envelope(m2!)],
            LIMITS,
          ),
        ];
        await waitFor(async () => {
          const { rows } = await admin.query(
            "SELECT count(*)::int AS n FROM pg_stat_activity WHERE wait_event_type = 'Lock'",
          );
          return (rows[0] as { n: number }).n === 2;
        }, 'both calls waiting on the held mailbox');
        await admin.query('COMMIT');
        // Had either call locked its ack's mailbox before the others, each would now wait on the other's.
        const answers = await Promise.all(calls);
        for (const answer of answers) {
          expect(answer.acks).toEqual([{ kind: 'deleted', count: 1 }]);
          expect(answer.stores.map((s) => s.kind)).toEqual(['stored', 'stored']);
        }
        expect(await counters(admin)).toEqual({ usage: 250, held: 250, wrongMailboxes: 0 });
      } finally {
        await Promise.all(nodes.map((node) => node.end()));
      }
    },
  );
});

describe('PostgreSQL restarted between an ack and the store it rides in', () => {
  it('the failed call fails both halves; the retries apply each exactly once', async () => {
    // Durable: a crash of a server without synchronous commit could lose the schema itself.
    const own = await startTestPostgres({ durable: true });
    const url = await own.createDatabase();
    const storage = await PostgresRelayStorage.open(url);
    const node = nodeOn(url);
    try {
      const combined = vi.spyOn(postgresMailboxes, 'ackAndStore');
      const [alice, bob] = [box(), box()];
      const [a1] = (await node.store(0, [envelope(alice)])).map(idOf);
      const retried = envelope(bob);
      const ack = node.ack(100, alice, [a1!]);
      await own.crash();
      // The ack rides in the store's call, which fails; its own call fails too.
      await expect(node.store(ACK_RIDE_AFTER_MS, [retried])).rejects.toThrow();
      await expect(ack).rejects.toThrow();
      expect(combined).toHaveBeenCalledTimes(1);
      await own.restart();
      // The client acks again and submits again (idempotent by clientMessageId).
      const again = node.ack(1_000, alice, [a1!]);
      const stored = await node.store(ACK_RIDE_AFTER_MS, [retried]);
      expect(await again).toEqual({ kind: 'deleted', count: 1 });
      expect(combined).toHaveBeenCalledTimes(2);
      expect(stored.map((s) => s.kind)).toEqual(['stored']);
      expect((await node.store(1_000, [retried]))[0]).toEqual({
        kind: 'duplicate',
        envelopeId: idOf(stored[0]),
      });
      expect(await storage.countQueued(alice)).toBe(0);
      expect(await storage.countQueued(bob)).toBe(1);
    } finally {
      await node.close();
      await storage.close();
      await own.stop();
    }
  });
});
