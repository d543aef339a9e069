import { randomBytes, randomInt } from 'node:crypto';
import type pg from 'pg';
import type {
  AckResult,
  Mailbox,
  NewestQueued,
  NewEnvelope,
  StoredEnvelope,
  StoreLimits,
  StoreResult,
} from '../storage.ts';
import {
  ackRowSchema,
  ackStoreRowSchema,
  countRowSchema,
  envelopeFromRow,
  listPositionSchema,
  mailboxBytesRowSchema,
  newestSeqRowSchema,
  storeResultFromRow,
} from './rows.ts';
import { RELEASE_STRIPES, STORE_STRIPES } from './hot-path-migration.ts';

type Query = Pick<pg.ClientBase, 'query'>;
export type Ack = { readonly mailbox: Mailbox; readonly envelopeIds: readonly string[] };

/** The store arrays, limits and store stripe of relay_store_sequenced and relay_ack_store (in that order). */
function storeParameters(envelopes: readonly NewEnvelope[], limits: StoreLimits): unknown[] {
  return [
    envelopes.map((e) => e.to.accountId),
    envelopes.map((e) => e.to.deviceId),
    envelopes.map((e) => e.clientMessageId),
    envelopes.map((e) => Buffer.from(e.body.buffer, e.body.byteOffset, e.body.byteLength)),
    envelopes.map((e) => e.receivedAt),
    // 128 random bits: ids are unguessable, so knowing one proves having been told it.
    envelopes.map(() => randomBytes(16).toString('base64url')),
    envelopes.map((e) => (e.tokenHash === undefined ? null : Buffer.from(e.tokenHash))),
    limits.mailboxQuota,
    limits.maxStorageBytes,
    STORE_STRIPES.first + randomInt(STORE_STRIPES.count),
  ];
}

/** Ack g (1-based) is mailbox (accounts[g], devices[g]) with the ids i where groups[i] = g. */
function ackParameters(acks: readonly Ack[]): unknown[] {
  return [
    acks.map((a) => a.mailbox.accountId),
    acks.map((a) => a.mailbox.deviceId),
    acks.flatMap((a, g) => a.envelopeIds.map(() => g + 1)),
    acks.flatMap((a) => a.envelopeIds),
  ];
}

const ackResultOf = (removed: number): AckResult =>
  removed < 0 ? { kind: 'forbidden' } : { kind: 'deleted', count: removed };

/** Adds `delta` (negative: bytes removed) to one random release stripe of the relay-wide counter: always a transaction's last lock. */
async function addUsage(db: Query, delta: number): Promise<void> {
  if (delta !== 0)
    await db.query('UPDATE relay_usage SET bytes = bytes + $1 WHERE stripe = $2', [
      delta,
      RELEASE_STRIPES.first + randomInt(RELEASE_STRIPES.count),
    ]);
}

/**
 * The mailbox half of the PostgreSQL storage. Each function runs on the
 * client it is given (store and ack are one statement each: on a pool, their
 * own transaction). Stores lock mailbox rows (sorted) then insert; acks and
 * the sweep delete envelope rows then update their mailboxes; each takes one
 * usage stripe last (hot-path-migration.ts).
 */
export const postgresMailboxes = {
  /**
   * Stores envelopes, each idempotent per (mailbox, clientMessageId) and
   * checked against its delivery token hash if it carries one: one statement
   * (relay_store_sequenced: relay_store_checked and each stored envelope's
   * seq), so on a pool it is its own transaction.
   */
  async store(
    db: Query,
    envelopes: readonly NewEnvelope[],
    limits: StoreLimits,
  ): Promise<StoreResult[]> {
    const { rows } = await db.query({
      name: 'relay-store-sequenced',
      text: `SELECT n, kind, envelope_id, seq
               FROM relay_store_sequenced($1, $2, $3, $4, $5, $6, $7, $8, $9, $10) ORDER BY n`,
      values: storeParameters(envelopes, limits),
    });
    if (rows.length !== envelopes.length) throw new Error('relay_store_batch answered short');
    return rows.map(storeResultFromRow);
  },

  /** The newest queued seq of each of these mailboxes that holds envelopes: one primary-key probe each, one statement. */
  async newest(db: Query, mailboxes: readonly Mailbox[]): Promise<NewestQueued[]> {
    const { rows } = await db.query(
      `SELECT t.a AS account_id, t.d AS device_id, n.seq
         FROM unnest($1::uuid[], $2::integer[]) AS t(a, d)
         CROSS JOIN LATERAL (SELECT seq FROM envelope
           WHERE account_id = t.a AND device_id = t.d ORDER BY seq DESC LIMIT 1) AS n`,
      [mailboxes.map((m) => m.accountId), mailboxes.map((m) => m.deviceId)],
    );
    return rows.map((raw) => {
      const row = newestSeqRowSchema.parse(raw);
      return { mailbox: { accountId: row.account_id, deviceId: row.device_id }, seq: row.seq };
    });
  },

  /**
   * The acks of several connections in one statement (relay_ack_batch), each
   * judged alone: 'forbidden' (nothing deleted) for an ack with an id of
   * another mailbox, whatever the others hold.
   */
  async deleteAckedBatch(db: Query, acks: readonly Ack[]): Promise<AckResult[]> {
    const { rows } = await db.query({
      name: 'relay-ack-batch',
      text: 'SELECT g, removed FROM relay_ack_batch($1, $2, $3, $4, $5) ORDER BY g',
      values: [...ackParameters(acks), RELEASE_STRIPES.first + randomInt(RELEASE_STRIPES.count)],
    });
    if (rows.length !== acks.length) throw new Error('relay_ack_batch answered short');
    return rows.map((raw) => ackResultOf(ackRowSchema.parse(raw).removed));
  },

  /**
   * A node's pending acks and a store batch in one statement and one durable
   * commit (relay_ack_store, migration 7): the acks judged as
   * deleteAckedBatch judges them, then the envelopes stored as store() stores
   * them. If it throws, neither half happened.
   */
  async ackAndStore(
    db: Query,
    acks: readonly Ack[],
    envelopes: readonly NewEnvelope[],
    limits: StoreLimits,
  ): Promise<{ acks: AckResult[]; stores: StoreResult[] }> {
    const { rows } = await db.query({
      name: 'relay-ack-store',
      text: `SELECT n, kind, envelope_id, seq, removed
               FROM relay_ack_store($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14)
              ORDER BY kind = 'ack' DESC, n`,
      values: [...ackParameters(acks), ...storeParameters(envelopes, limits)],
    });
    if (rows.length !== acks.length + envelopes.length)
      throw new Error('relay_ack_store answered short');
    return {
      acks: rows
        .slice(0, acks.length)
        .map((raw) => ackResultOf(ackStoreRowSchema.parse(raw).removed)),
      stores: rows.slice(acks.length).map(storeResultFromRow),
    };
  },

  /**
   * Up to `limit` envelopes after `afterSeq` for each of these reads, in seq
   * order per mailbox: one statement for the push reads of a whole tick.
   */
  async listMany(
    db: Query,
    reads: readonly {
      readonly mailbox: Mailbox;
      readonly afterSeq: number;
      readonly limit: number;
    }[],
  ): Promise<StoredEnvelope[][]> {
    const { rows } = await db.query({
      name: 'relay-list-many',
      text: `SELECT t.n, q.seq, q.id, q.body, q.received_at
               FROM unnest($1::uuid[], $2::integer[], $3::bigint[], $4::integer[])
                    WITH ORDINALITY AS t(a, d, after, lim, n)
               CROSS JOIN LATERAL (SELECT seq, id, body, received_at FROM envelope
                 WHERE account_id = t.a AND device_id = t.d AND seq > t.after
                 ORDER BY seq LIMIT t.lim) AS q
              ORDER BY t.n, q.seq`,
      values: [
        reads.map((r) => r.mailbox.accountId),
        reads.map((r) => r.mailbox.deviceId),
        reads.map((r) => r.afterSeq),
        reads.map((r) => r.limit),
      ],
    });
    const lists: StoredEnvelope[][] = reads.map(() => []);
    for (const raw of rows) {
      const n = listPositionSchema.parse(raw).n;
      const list = lists[n - 1];
      if (list === undefined) throw new Error('relay-list-many answered a read it was not asked');
      list.push(envelopeFromRow(raw));
    }
    return lists;
  },

  /**
   * Deletes at most `limit` of the oldest envelopes received before `cutoff`,
   * skipping rows another transaction holds: an ack deletes envelope rows in
   * its own order (its ids'), the sweep in another (row positions), so a
   * sweep that waited on one could wait in a cycle with the ack (a deadlock,
   * one of them rolled back). An ack holding a row deletes it itself, or the
   * next sweep does.
   */
  async expire(db: Query, cutoff: number, limit: number): Promise<number> {
    return await removeAndCount(
      db,
      `DELETE FROM envelope WHERE ctid = ANY (ARRAY(
         SELECT ctid FROM envelope WHERE received_at < $1 ORDER BY received_at LIMIT $2
            FOR UPDATE SKIP LOCKED))
       RETURNING account_id, device_id, length(body) AS size`,
      [cutoff, limit],
    );
  },

  /** Envelopes waiting in a mailbox (the maintained counter). */
  async count(db: Query, mailbox: Mailbox): Promise<number> {
    const { rows } = await db.query(
      'SELECT envelopes AS n FROM mailbox WHERE account_id = $1 AND device_id = $2',
      [mailbox.accountId, mailbox.deviceId],
    );
    return rows[0] === undefined ? 0 : countRowSchema.parse(rows[0]).n;
  },
};

/**
 * Runs a DELETE … RETURNING account_id, device_id, size and takes what it
 * removed off the counters (mailboxes in lock order, then one stripe).
 */
async function removeAndCount(db: Query, sql: string, params: unknown[]): Promise<number> {
  const { rows } = await db.query(
    `WITH gone AS (${sql})
     SELECT account_id, device_id, count(*) AS removed, sum(size) AS bytes FROM gone
      GROUP BY account_id, device_id ORDER BY account_id, device_id`,
    params,
  );
  let removed = 0;
  let bytes = 0;
  for (const raw of rows) {
    const row = mailboxBytesRowSchema.parse(raw);
    await db.query(
      `UPDATE mailbox SET envelopes = envelopes - $3, bytes = bytes - $4
        WHERE account_id = $1 AND device_id = $2`,
      [row.account_id, row.device_id, row.removed, row.bytes],
    );
    removed += row.removed;
    bytes += row.bytes;
  }
  await addUsage(db, -bytes);
  return removed;
}
