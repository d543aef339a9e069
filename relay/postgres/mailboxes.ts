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
  countRowSchema,
  envelopeFromRow,
  mailboxBytesRowSchema,
  newestSeqRowSchema,
  storeResultFromRow,
} from './rows.ts';
import { RELEASE_STRIPES, STORE_STRIPES } from './hot-path-migration.ts';

type Query = Pick<pg.ClientBase, 'query'>;

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
   * Stores envelopes, each idempotent per (mailbox, clientMessageId): one
   * statement (relay_store_batch), so on a pool it is its own transaction.
   */
  async store(
    db: Query,
    envelopes: readonly NewEnvelope[],
    limits: StoreLimits,
  ): Promise<StoreResult[]> {
    const { rows } = await db.query({
      name: 'relay-store-batch',
      text: `SELECT n, kind, envelope_id
               FROM relay_store_batch($1, $2, $3, $4, $5, $6, $7, $8, $9) ORDER BY n`,
      values: [
        envelopes.map((e) => e.to.accountId),
        envelopes.map((e) => e.to.deviceId),
        envelopes.map((e) => e.clientMessageId),
        envelopes.map((e) => Buffer.from(e.body.buffer, e.body.byteOffset, e.body.byteLength)),
        envelopes.map((e) => e.receivedAt),
        // 128 random bits: ids are unguessable, so knowing one proves having been told it.
        envelopes.map(() => randomBytes(16).toString('base64url')),
        limits.mailboxQuota,
        limits.maxStorageBytes,
        STORE_STRIPES.first + randomInt(STORE_STRIPES.count),
      ],
    });
    if (rows.length !== envelopes.length) throw new Error('relay_store_batch answered short');
    return rows.map(storeResultFromRow);
  },

  /** Up to `limit` envelopes of a mailbox after `afterSeq`, in seq (= commit) order. */
  async list(
    db: Query,
    mailbox: Mailbox,
    afterSeq: number,
    limit: number,
  ): Promise<StoredEnvelope[]> {
    const { rows } = await db.query({
      name: 'relay-list-queued',
      text: `SELECT seq, id, body, received_at FROM envelope
                WHERE account_id = $1 AND device_id = $2 AND seq > $3 ORDER BY seq LIMIT $4`,
      values: [mailbox.accountId, mailbox.deviceId, afterSeq, limit],
    });
    return rows.map(envelopeFromRow);
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

  /** Deletes acked envelopes; nothing at all if one id belongs to another mailbox. One statement (relay_ack). */
  async deleteAcked(
    db: Query,
    mailbox: Mailbox,
    envelopeIds: readonly string[],
  ): Promise<AckResult> {
    const { rows } = await db.query({
      name: 'relay-ack',
      text: 'SELECT relay_ack($1, $2, $3, $4) AS n',
      values: [
        mailbox.accountId,
        mailbox.deviceId,
        envelopeIds,
        RELEASE_STRIPES.first + randomInt(RELEASE_STRIPES.count),
      ],
    });
    const removed = countRowSchema.parse(rows[0]).n;
    return removed < 0 ? { kind: 'forbidden' } : { kind: 'deleted', count: removed };
  },

  /** Deletes at most `limit` of the oldest envelopes received before `cutoff`. */
  async expire(db: Query, cutoff: number, limit: number): Promise<number> {
    return await removeAndCount(
      db,
      `DELETE FROM envelope WHERE ctid = ANY (ARRAY(
         SELECT ctid FROM envelope WHERE received_at < $1 ORDER BY received_at LIMIT $2))
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
