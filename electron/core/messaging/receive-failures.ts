import type { AccountId } from '../../../shared/protocol/account-id.ts';
import { countTrustRefusal } from '../crypto/trust-refusals.ts';
import type { Sql } from '../db/sqlite.ts';
import type { IncomingEnvelope } from '../sync/relay.ts';
import type { UnsealFailure } from './sealed.ts';

// Envelopes the receive pipeline could not process (R5): each failure is
// counted per envelope, retried up to MAX_ENVELOPE_ATTEMPTS times, then
// rejected and shown to the user as a count, never silently dropped.

/** Why an envelope could not be processed (stable, content-free). */
export type FailureCode =
  | UnsealFailure
  | 'BLOCKED_SENDER'
  | 'DECRYPT_FAILED'
  | 'BAD_CONTENT'
  /** A sender-key message from someone who is not a current member of its group. */
  | 'NOT_GROUP_MEMBER';

/** An envelope is retried this many times, then rejected and shown to the user (R5). */
export const MAX_ENVELOPE_ATTEMPTS = 3;

/** What became of a failed envelope: retried later, or given up on (R5). */
export type FailureOutcome = {
  readonly envelopeId: string;
  readonly outcome: 'retry' | 'rejected';
  readonly error: FailureCode;
};

/** A failed envelope; `final` failures are rejected at once instead of retried. */
export type Failure = {
  envelope: IncomingEnvelope;
  /** Empty when the seal did not open (no sender is known). */
  sender: AccountId | '';
  error: FailureCode;
  final: boolean;
};

/**
 * Records each failure (the attempt count goes up; a `final` one starts at
 * the maximum) and says whether the envelope is retried or now rejected; a
 * rejected one is marked processed, so a redelivery is a duplicate.
 */
export function recordFailures(
  db: Sql,
  failures: readonly Failure[],
  now: number,
): FailureOutcome[] {
  const markProcessed = db.prepare(
    'INSERT INTO processed_envelopes (envelope_id, processed_at) VALUES (?, ?) ON CONFLICT DO NOTHING',
  );
  const recordFailure = db.prepare(
    `INSERT INTO failed_envelopes (envelope_id, sender_account, error_code, attempts, first_failed_at, last_failed_at)
     VALUES (?, ?, ?, ?, ?, ?)
     ON CONFLICT (envelope_id) DO UPDATE SET attempts = max(attempts + 1, excluded.attempts),
       error_code = excluded.error_code, last_failed_at = excluded.last_failed_at
     RETURNING attempts`,
  );
  return failures.map(({ envelope, sender, error, final }) => {
    // A certificate whose key does not derive (or is not the pin of) the id it claims: the trust counter (`sotto status`).
    if (error === 'FORGED_SENDER') countTrustRefusal(db, 'identity.forged', now);
    const first = final ? MAX_ENVELOPE_ATTEMPTS : 1;
    const { attempts } = recordFailure.get<{ attempts: number }>([
      envelope.id,
      sender,
      error,
      first,
      now,
      now,
    ])!;
    if (attempts < MAX_ENVELOPE_ATTEMPTS)
      return { envelopeId: envelope.id, outcome: 'retry', error };
    markProcessed.run([envelope.id, now]);
    return { envelopeId: envelope.id, outcome: 'rejected', error };
  });
}

/** Envelopes that could not be processed and were given up on (R5): shown to the user. */
export function rejectedEnvelopeCount(db: Sql): number {
  return Number(
    db
      .prepare('SELECT count(*) FROM failed_envelopes WHERE attempts >= ?', { pluck: true })
      .get([MAX_ENVELOPE_ATTEMPTS]),
  );
}
