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
import { USAGE_STRIPES } from './schema.ts';

type Query = Pick<pg.ClientBase, 'query'>;

/** Orders mailboxes the way every transaction locks them (so none waits on another in a cycle). */
function byMailbox(a: Mailbox, b: Mailbox): number {
  return a.accountId < b.accountId ? -1 : a.accountId > b.accountId ? 1 : a.deviceId - b.deviceId;
}

/** Adds `delta` bytes to one random stripe of the relay-wide counter: always a transaction's last lock. */
async function addUsage(db: Query, delta: number): Promise<void> {
  if (delta !== 0)
    await db.query('UPDATE relay_usage SET bytes = bytes + $1 WHERE stripe = $2', [
      delta,
      randomInt(USAGE_STRIPES),
    ]);
}

/**
 * The mailbox half of the PostgreSQL storage. Each function runs on the
 * client it is given; the caller owns the transaction. Lock order in every
 * transaction: mailbox rows (sorted), envelope rows, one usage stripe.
 */
export const postgresMailboxes = {
  /** Stores envelopes (in one transaction of the caller), each idempotent per (mailbox, clientMessageId). */
  async store(
    db: Query,
    envelopes: readonly NewEnvelope[],
    limits: StoreLimits,
  ): Promise<StoreResult[]> {
    const boxes = [
      ...new Map(envelopes.map((e) => [`${e.to.accountId}.${e.to.deviceId}`, e.to])).values(),
    ].sort(byMailbox);
    // Creates missing mailbox rows and locks them all, in one fixed order.
    await db.query(
      `INSERT INTO mailbox (account_id, device_id)
       SELECT a, d FROM unnest($1::uuid[], $2::integer[]) AS t(a, d) ORDER BY a, d
       ON CONFLICT DO NOTHING`,
      [boxes.map((m) => m.accountId), boxes.map((m) => m.deviceId)],
    );
    await db.query(
      `SELECT 1 FROM mailbox m JOIN unnest($1::uuid[], $2::integer[]) AS t(a, d)
         ON m.account_id = t.a AND m.device_id = t.d
       ORDER BY m.account_id, m.device_id FOR UPDATE OF m`,
      [boxes.map((m) => m.accountId), boxes.map((m) => m.deviceId)],
    );
    const results: StoreResult[] = [];
    let added = 0;
    for (const envelope of envelopes) {
      // 128 random bits: ids are unguessable, so knowing one proves having been told it.
      const id = randomBytes(16).toString('base64url');
      const { rows } = await db.query(
        'SELECT * FROM relay_store($1, $2, $3, $4, $5, $6, $7, $8, $9)',
        [
          envelope.to.accountId,
          envelope.to.deviceId,
          envelope.clientMessageId,
          envelope.body,
          envelope.receivedAt,
          limits.mailboxQuota,
          limits.maxStorageBytes,
          added,
          id,
        ],
      );
      const result = storeResultFromRow(rows[0]);
      if (result.kind === 'stored') added += envelope.body.length;
      results.push(result);
    }
    await addUsage(db, added);
    return results;
  },

  /** Up to `limit` envelopes of a mailbox after `afterSeq`, in seq (= commit) order. */
  async list(
    db: Query,
    mailbox: Mailbox,
    afterSeq: number,
    limit: number,
  ): Promise<StoredEnvelope[]> {
    const { rows } = await db.query(
      `SELECT seq, id, body, received_at FROM envelope
        WHERE account_id = $1 AND device_id = $2 AND seq > $3 ORDER BY seq LIMIT $4`,
      [mailbox.accountId, mailbox.deviceId, afterSeq, limit],
    );
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

  /** Deletes acked envelopes; nothing at all if one id belongs to another mailbox. */
  async deleteAcked(
    db: Query,
    mailbox: Mailbox,
    envelopeIds: readonly string[],
  ): Promise<AckResult> {
    const foreign = await db.query(
      `SELECT 1 FROM envelope WHERE id = ANY($1::text[])
          AND (account_id <> $2 OR device_id <> $3) LIMIT 1`,
      [envelopeIds, mailbox.accountId, mailbox.deviceId],
    );
    if (foreign.rowCount !== 0) return { kind: 'forbidden' };
    const removed = await removeAndCount(
      db,
      `DELETE FROM envelope WHERE id = ANY($1::text[]) AND account_id = $2 AND device_id = $3
       RETURNING account_id, device_id, length(body) AS size`,
      [envelopeIds, mailbox.accountId, mailbox.deviceId],
    );
    return { kind: 'deleted', count: removed };
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
