import type pg from 'pg';
import { z } from 'zod';
import type { BudgetLease } from '../storage.ts';
import type { BucketSpec } from '../token-bucket.ts';

// The PostgreSQL half of the shared budgets (docs/relay-operations.md#shared-budgets):
// one call of relay_budget_lease (schema.ts) per chunk a node leases.

type Query = Pick<pg.ClientBase, 'query'>;

const leaseRowSchema = z.object({ granted: z.number().min(0), remaining: z.number() });

/** Rows the sweep deletes per call: full buckets, which equal absent ones. */
const PRUNE_BATCH = 1_000;

export const postgresBudgets = {
  /** Leases at least `need` (up to `chunk`) tokens of a shared bucket, or none if it holds fewer than `need`. */
  async lease(
    db: Query,
    key: string,
    spec: BucketSpec,
    need: number,
    chunk: number,
  ): Promise<BudgetLease> {
    const { rows } = await db.query({
      name: 'relay-budget-lease',
      text: 'SELECT granted, remaining FROM relay_budget_lease($1, $2, $3, $4, $5)',
      values: [key, spec.burst, spec.perSecond, need, chunk],
    });
    return leaseRowSchema.parse(rows[0]);
  },

  /**
   * Deletes buckets that have refilled completely; returns how many. The
   * DELETE asks again whether each row is full: a lease that committed while
   * the DELETE waited on its row leaves a newer row, which only the DELETE's
   * own condition is checked against (the subquery's list was made before),
   * and forgetting it would hand out a full bucket again.
   */
  async prune(db: Query): Promise<number> {
    const { rowCount } = await db.query(
      `DELETE FROM relay_budget WHERE key = ANY (ARRAY(
         SELECT key FROM relay_budget WHERE full_at < clock_timestamp() LIMIT $1))
         AND full_at < clock_timestamp()`,
      [PRUNE_BATCH],
    );
    return rowCount ?? 0;
  },
};
