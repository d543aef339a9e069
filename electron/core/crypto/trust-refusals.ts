import type { Sql } from '../db/sqlite.ts';

/**
 * Why a key or a move notice was refused (docs/threat-model.md#trust-decisions).
 * Stable: `sotto status` and the app show these counters.
 * - `identity.forged`: a key that does not derive the account id it claims (message, bundle, invite);
 * - `move.bad-signature`: a move notice not signed by the key pinned for the account it moves;
 * - `move.misaddressed`: a notice whose new account or key is not the sender's own;
 * - `move.replayed`: a notice older than (or the same as) one already applied;
 * - `move.unknown-account`: a notice for an account that is not a contact.
 */
export const TRUST_REFUSAL_CODES = [
  'identity.forged',
  'move.bad-signature',
  'move.misaddressed',
  'move.replayed',
  'move.unknown-account',
] as const;

/** One of TRUST_REFUSAL_CODES. */
export type TrustRefusalCode = (typeof TRUST_REFUSAL_CODES)[number];

/** Adds `count` refusals of one kind (inside the caller's transaction). */
export function countTrustRefusal(db: Sql, code: TrustRefusalCode, now: number, count = 1): void {
  db.prepare(
    `INSERT INTO trust_refusals (code, count, last_at) VALUES (?, ?, ?)
     ON CONFLICT (code) DO UPDATE SET count = count + excluded.count, last_at = excluded.last_at`,
  ).run([code, count, now]);
}

/** Every refusal counter, zero for kinds never seen. */
export function trustRefusalCounts(db: Sql): Record<TrustRefusalCode, number> {
  const counts = Object.fromEntries(TRUST_REFUSAL_CODES.map((code) => [code, 0])) as Record<
    TrustRefusalCode,
    number
  >;
  for (const row of db
    .prepare('SELECT code, count FROM trust_refusals')
    .all<{ code: string; count: number }>()) {
    if ((TRUST_REFUSAL_CODES as readonly string[]).includes(row.code))
      counts[row.code as TrustRefusalCode] = row.count;
  }
  return counts;
}
