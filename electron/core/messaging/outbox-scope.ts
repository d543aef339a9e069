// Which outbox rows an operation may pick (shared by outbox.ts and send-queue.ts).

/** Which outbox entries an operation covers: everything, or only delivery receipts. */
export type OutboxScope = 'all' | 'receipts';

/** The SQL condition for a scope. */
export function scopeSql(scope: OutboxScope): string {
  return scope === 'receipts' ? "AND kind = 'receipt'" : '';
}

/** A time far enough ahead that a parked entry is never picked up until retried. */
export const PARKED = Number.MAX_SAFE_INTEGER;

/** Recipients that can be written to at all: not blocked, and we hold their delivery token. */
export const REACHABLE =
  'recipient IN (SELECT account_id FROM contacts WHERE blocked = 0 AND delivery_token IS NOT NULL)';

/** The one device an account has for now. */
export const RECIPIENT_DEVICE = 1;
