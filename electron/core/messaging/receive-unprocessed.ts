import type { Sql } from '../db/sqlite.ts';
import type { IncomingEnvelope } from '../sync/relay.ts';
import type { EnvelopeOutcome } from './receive-commit.ts';
import { MAX_ENVELOPE_ATTEMPTS } from './receive-failures.ts';

// Signal's `unprocessed` idea for Sotto (docs/architecture.md#receive-pipeline-r1-r3-r5):
// an envelope whose inner layer may still open later is kept here, raw and
// sealed, in the same commit that counts its failure, so the relay copy can be
// acked at once and never holds back the envelopes behind it.

/**
 * Envelopes kept for a retry at most (at the relay's 96 KiB per envelope,
 * under 48 MiB). Beyond it the oldest are rejected (R5), so a hostile
 * contact cannot grow the database without bound.
 */
export const MAX_UNPROCESSED_ENVELOPES = 500;

/** Where a batch came from: the relay (acked afterwards) or this table (a retry). */
export type EnvelopeSource = 'relay' | 'unprocessed';

/** A kept envelope and its place in the table's order (the cursor of the next page). */
export interface KeptEnvelope {
  readonly envelope: IncomingEnvelope;
  readonly storedAt: number;
}

/**
 * Whether an envelope id was handled before (R3): `processed`, or `kept` here
 * for a retry. From the relay, a kept id is a duplicate of the kept copy (the
 * relay redelivers what was committed but whose ack was lost); a retry from
 * the table only skips what was processed since.
 */
export function seenBefore(
  db: Sql,
  source: EnvelopeSource,
): (envelopeId: string) => 'processed' | 'kept' | undefined {
  const processed = db.prepare('SELECT 1 FROM processed_envelopes WHERE envelope_id = ?');
  const kept = db.prepare('SELECT 1 FROM unprocessed_envelopes WHERE envelope_id = ?');
  return (id) => {
    if (processed.get([id]) !== undefined) return 'processed';
    return source === 'relay' && kept.get([id]) !== undefined ? 'kept' : undefined;
  };
}

/**
 * In the batch's commit: keeps each `retry` envelope's raw body, deletes the
 * rows of every other outcome (processed, duplicate or rejected), then rejects
 * the oldest rows beyond MAX_UNPROCESSED_ENVELOPES. Returns how many were evicted.
 */
export function settleUnprocessed(
  db: Sql,
  envelopes: ReadonlyMap<string, IncomingEnvelope>,
  outcomes: readonly EnvelopeOutcome[],
  now: number,
): number {
  const keep = db.prepare(
    `INSERT INTO unprocessed_envelopes (envelope_id, body, server_time, stored_at) VALUES (?, ?, ?, ?)
     ON CONFLICT DO NOTHING`,
  );
  const drop = db.prepare('DELETE FROM unprocessed_envelopes WHERE envelope_id = ?');
  const forget = db.prepare('DELETE FROM failed_envelopes WHERE envelope_id = ? AND attempts < ?');
  for (const outcome of outcomes) {
    const envelope = envelopes.get(outcome.envelopeId);
    if (outcome.outcome === 'retry' && envelope)
      keep.run([envelope.id, Uint8Array.from(envelope.body), envelope.serverTime, now]);
    else {
      drop.run([outcome.envelopeId]);
      // An earlier failure that this attempt overcame is no longer a failure to count.
      if (outcome.outcome !== 'rejected') forget.run([outcome.envelopeId, MAX_ENVELOPE_ATTEMPTS]);
    }
  }
  return evictOverCap(db, now);
}

function evictOverCap(db: Sql, now: number): number {
  const count = Number(
    db.prepare('SELECT count(*) FROM unprocessed_envelopes', { pluck: true }).get(),
  );
  if (count <= MAX_UNPROCESSED_ENVELOPES) return 0;
  const oldest = db
    .prepare(
      'SELECT envelope_id FROM unprocessed_envelopes ORDER BY stored_at, envelope_id LIMIT ?',
      { pluck: true },
    )
    .all<string>([count - MAX_UNPROCESSED_ENVELOPES]);
  // Given up on like a third failed attempt: counted as rejected, and a redelivery is a duplicate.
  const reject = db.prepare(
    'UPDATE failed_envelopes SET attempts = max(attempts, ?), last_failed_at = ? WHERE envelope_id = ?',
  );
  const markProcessed = db.prepare(
    'INSERT INTO processed_envelopes (envelope_id, processed_at) VALUES (?, ?) ON CONFLICT DO NOTHING',
  );
  const drop = db.prepare('DELETE FROM unprocessed_envelopes WHERE envelope_id = ?');
  for (const id of oldest) {
    reject.run([MAX_ENVELOPE_ATTEMPTS, now, id]);
    markProcessed.run([id, now]);
    drop.run([id]);
  }
  return oldest.length;
}

/** One page of envelopes kept before `keptBefore`, oldest first, after `cursor` (the last page's last row). */
export function loadUnprocessed(
  db: Sql,
  limit: number,
  keptBefore: number,
  cursor?: KeptEnvelope,
): KeptEnvelope[] {
  const rows = db
    .prepare(
      `SELECT envelope_id, body, server_time, stored_at FROM unprocessed_envelopes
       WHERE stored_at < ? AND (stored_at, envelope_id) > (?, ?)
       ORDER BY stored_at, envelope_id LIMIT ?`,
    )
    .all<{
      envelope_id: string;
      body: Uint8Array<ArrayBuffer>;
      server_time: number;
      stored_at: number;
    }>([keptBefore, cursor?.storedAt ?? -1, cursor?.envelope.id ?? '', limit]);
  return rows.map((row) => ({
    envelope: { id: row.envelope_id, body: row.body, serverTime: row.server_time },
    storedAt: row.stored_at,
  }));
}

/** Envelopes kept for a retry right now. */
export function unprocessedEnvelopeCount(db: Sql): number {
  return Number(db.prepare('SELECT count(*) FROM unprocessed_envelopes', { pluck: true }).get());
}
