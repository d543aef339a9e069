import { afterAll, beforeAll, expect, it } from 'vitest';
import { startTestPostgres, type TestPostgres } from '../../../support/postgres.ts';
import { untilWaitingOnLocks, withRival } from './race-fixture.ts';

// The shared budget buckets against the sweep that forgets full ones
// (relay_budget_lease and postgresBudgets.prune), with the interleavings made
// deterministic by a second connection that holds the bucket's row: a lease
// that commits while the prune waits on its row, and a prune that deletes the
// row between the lease's insert and its read.

let postgres: TestPostgres;
beforeAll(async () => {
  postgres = await startTestPostgres();
});
afterAll(async () => {
  await postgres.stop();
});

/** A bucket of 4 that refills in a microsecond, and one that takes over an hour. */
const QUICK = { burst: 4, perSecond: 1_000_000 };
const SLOW = { burst: 4, perSecond: 0.001 };

it('a lease that empties a full bucket while the sweep waits on its row is not undone by the sweep', async () => {
  await withRival(postgres, async (storage, rival, observer) => {
    // A full bucket (a lease of nothing): the sweep may forget it.
    await storage.leaseBudget('target', SLOW, 0, 0);
    await rival.query('BEGIN');
    await rival.query('SELECT * FROM relay_budget_lease($1, $2, $3, $4, $5)', [
      'target',
      SLOW.burst,
      SLOW.perSecond,
      SLOW.burst,
      SLOW.burst,
    ]);
    // The sweep read the bucket as full before the lease commits, then waits on its row.
    const sweep = storage.expireBefore(0, 10);
    await untilWaitingOnLocks(observer);
    await rival.query('COMMIT');
    await sweep;
    // The lease took all four and the bucket refills one token in 1,000 s: nothing is left to lease.
    const after = await storage.leaseBudget('target', SLOW, 1, 1);
    expect(after.granted).toBe(0);
    expect(after.remaining).toBeLessThan(1);
  });
});

it('a lease whose bucket the sweep deletes between its insert and its read still answers', async () => {
  await withRival(postgres, async (storage, rival, observer) => {
    await storage.leaseBudget('target', QUICK, 1, 1);
    // Refilled (a microsecond per token): full, so the sweep's query selects it.
    await new Promise((resolve) => setTimeout(resolve, 5));
    await rival.query('BEGIN');
    await rival.query("SELECT 1 FROM relay_budget WHERE key = 'target' FOR UPDATE");
    // The lease finds the row (its insert does nothing), then waits to lock it.
    const lease = storage.leaseBudget('target', QUICK, 1, 1);
    await untilWaitingOnLocks(observer);
    const { rowCount } = await rival.query(
      "DELETE FROM relay_budget WHERE key = 'target' AND full_at < clock_timestamp()",
    );
    expect(rowCount).toBe(1);
    await rival.query('COMMIT');
    expect(await lease).toEqual({ granted: 1, remaining: 3 });
  });
});
