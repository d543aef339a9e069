import pg from 'pg';
import { describe, expect } from 'vitest';
import { postgresMailboxes, type Ack } from '../../../../relay/postgres/mailboxes.ts';
import { SCHEMA_VERSION } from '../../../../relay/postgres/schema.ts';
import { PostgresRelayStorage } from '../../../../relay/postgres/storage.ts';
import type { Mailbox } from '../../../../relay/storage.ts';
import { LIMITS, box, counters, envelope, idOf, withDatabase } from './hot-path-fixtures.ts';
import { untilWaitingOnLocks } from './race-fixture.ts';

// Acks of two nodes that share envelopes (one device connected to both after a
// reconnect, both connections acking what both were pushed), made
// deterministic: a rival connection holds row locks, and the test waits on
// pg_stat_activity until a call is queued behind them. Migration 10
// (relay/postgres/ack-order-migration.ts) locks an ack call's envelope rows in
// id order; the node retries a deadlock victim once (relay/postgres/deadlock.ts).

/** Three stored envelopes (one per mailbox), sorted by id as PostgreSQL sorts them. */
async function threeEnvelopes(
  storage: PostgresRelayStorage,
  admin: pg.Client,
): Promise<{ id: string; mailbox: Mailbox }[]> {
  const boxes = [box(), box(), box()];
  const ids = (
    await storage.storeEnvelopes(
      boxes.map((b) => envelope(b)),
      LIMITS,
    )
  ).map(idOf);
  const { rows } = await admin.query<{ id: string }>(
    'SELECT id FROM envelope WHERE id = ANY ($1) ORDER BY id',
    [ids],
  );
  return rows.map(({ id }) => ({ id, mailbox: boxes[ids.indexOf(id)]! }));
}

const ackOf = (...rows: { id: string; mailbox: Mailbox }[]): Ack[] =>
  rows.map(({ id, mailbox }) => ({ mailbox, envelopeIds: [id] }));

async function clients(url: string, count: number): Promise<pg.Client[]> {
  const all = Array.from({ length: count }, () => new pg.Client({ connectionString: url }));
  await Promise.all(all.map((client) => client.connect()));
  return all;
}

describe('PostgreSQL stores and acks of two nodes over the same rows (migration 10)', () => {
  // Node 1 acks a, b, c and node 2 acks c, a (with a store riding, or not).
  // The rival holds b, so node 1 takes a and queues on b. Had node 2 locked
  // c first, it would hold what node 1 needs next while queueing on a, which
  // node 1 holds: a cycle once the rival lets b go.
  for (const riding of [false, true])
    withDatabase(
      `two ack calls naming shared envelopes in opposite orders both finish${riding ? ', one riding in a store call' : ''}: each deleted once`,
      async (storage, admin, url) => {
        const [a, b, c] = await threeEnvelopes(storage, admin);
        const [node1, node2, observer] = await clients(url, 3);
        const ack = async (node: pg.Client, acks: Ack[]) =>
          riding
            ? (await postgresMailboxes.ackAndStore(node, acks, [envelope(box())], LIMITS)).acks
            : await postgresMailboxes.deleteAckedBatch(node, acks);
        try {
          await admin.query('BEGIN');
          await admin.query('SELECT 1 FROM envelope WHERE id = $1 FOR UPDATE', [b!.id]);
          const first = ack(node1!, ackOf(a!, b!, c!));
          await untilWaitingOnLocks(observer!, 1);
          const second = ack(node2!, ackOf(c!, a!));
          await untilWaitingOnLocks(observer!, 2);
          await admin.query('ROLLBACK');
          expect(await first).toEqual([1, 1, 1].map((count) => ({ kind: 'deleted', count })));
          expect(await second).toEqual([0, 0].map((count) => ({ kind: 'deleted', count })));
          const held = riding ? 100 : 0;
          expect(await counters(admin)).toEqual({ usage: held, held, wrongMailboxes: 0 });
        } finally {
          await Promise.all([node1!, node2!, observer!].map((client) => client.end()));
        }
      },
    );

  withDatabase(
    'two store calls naming the same mailboxes in opposite orders both finish, each mailbox gapless',
    async (_storage, admin, url) => {
      const boxes = [box(), box(), box()];
      const [node1, node2, observer] = await clients(url, 3);
      try {
        await postgresMailboxes.store(
          admin,
          boxes.map((b) => envelope(b)),
          LIMITS,
        );
        // The rival holds the middle mailbox in key order; the calls name all three, reversed.
        const sorted = [...boxes].sort((x, y) => (x.accountId < y.accountId ? -1 : 1));
        await admin.query('BEGIN');
        await admin.query('SELECT 1 FROM mailbox WHERE account_id = $1 FOR UPDATE', [
          sorted[1]!.accountId,
        ]);
        const first = postgresMailboxes.store(
          node1!,
          sorted.map((b) => envelope(b)),
          LIMITS,
        );
        await untilWaitingOnLocks(observer!, 1);
        const second = postgresMailboxes.store(
          node2!,
          [...sorted].reverse().map((b) => envelope(b)),
          LIMITS,
        );
        await untilWaitingOnLocks(observer!, 2);
        await admin.query('ROLLBACK');
        const seqs = [...(await first), ...(await second)].map((r) =>
          r.kind === 'stored' ? r.seq : r.kind,
        );
        expect(seqs).toEqual([2, 2, 2, 3, 3, 3]);
        expect(await counters(admin)).toEqual({ usage: 450, held: 450, wrongMailboxes: 0 });
      } finally {
        await Promise.all([node1!, node2!, observer!].map((client) => client.end()));
      }
    },
  );

  withDatabase(
    'an ack call PostgreSQL rolls back as a deadlock victim is run once more and answered',
    async (storage, admin, url) => {
      const [a, b] = await threeEnvelopes(storage, admin);
      const [observer] = await clients(url, 1);
      try {
        // The rival never detects the cycle itself: the node's call is the victim.
        await admin.query("SET deadlock_timeout = '60s'");
        await admin.query('BEGIN');
        await admin.query('SELECT 1 FROM mailbox WHERE account_id = $1 FOR UPDATE', [
          a!.mailbox.accountId,
        ]);
        // The node's call (after its 30 ms ack window) deletes a, then queues on a's mailbox.
        const acked = storage.deleteAcked(a!.mailbox, [a!.id]);
        const ackedToo = storage.deleteAcked(b!.mailbox, [b!.id]);
        await untilWaitingOnLocks(observer!, 1);
        // The rival now wants a: a cycle. After deadlock_timeout PostgreSQL
        // rolls the node's call back, the rival gets a, and the retry queues
        // behind the rival.
        await admin.query('SELECT 1 FROM envelope WHERE id = $1 FOR UPDATE', [a!.id]);
        await untilWaitingOnLocks(observer!, 1);
        await admin.query('ROLLBACK');
        expect(await Promise.all([acked, ackedToo])).toEqual([
          { kind: 'deleted', count: 1 },
          { kind: 'deleted', count: 1 },
        ]);
        expect(await counters(admin)).toEqual({ usage: 50, held: 50, wrongMailboxes: 0 });
      } finally {
        await observer?.end();
      }
    },
  );

  withDatabase(
    'a database of migration 9 with envelopes queued migrates, and its acks answer as before',
    async (storage, admin, url) => {
      const [a, b] = await threeEnvelopes(storage, admin);
      // Migration 9's functions back under their own names.
      for (const [name, types] of [
        ['relay_ack_batch', 'uuid[], integer[], integer[], text[], integer'],
        [
          'relay_ack_store',
          'uuid[], integer[], integer[], text[], uuid[], integer[], text[], bytea[], bigint[], text[], bytea[], integer, bigint, integer',
        ],
      ])
        await admin.query(`DROP FUNCTION ${name}(${types});
          ALTER FUNCTION ${name}_unordered(${types}) RENAME TO ${name}`);
      await admin.query('UPDATE relay_schema SET version = 9');
      const reopened = await PostgresRelayStorage.open(url);
      try {
        const { rows } = await admin.query<{ version: number }>('SELECT version FROM relay_schema');
        expect(rows).toEqual([{ version: SCHEMA_VERSION }]);
        expect(
          await Promise.all([
            reopened.deleteAcked(a!.mailbox, [a!.id]),
            reopened.deleteAcked(b!.mailbox, [a!.id, b!.id]),
          ]),
        ).toEqual([{ kind: 'deleted', count: 1 }, { kind: 'forbidden' }]);
        expect(await counters(admin)).toEqual({ usage: 100, held: 100, wrongMailboxes: 0 });
      } finally {
        await reopened.close();
      }
    },
  );
});
