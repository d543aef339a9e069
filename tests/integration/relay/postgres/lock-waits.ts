import type pg from 'pg';

// Race tests make an interleaving deterministic by holding a lock in a second
// connection: they start the call under test, then wait, on what PostgreSQL
// reports rather than on a timer, until it is queued behind that lock.

/** Resolves once `count` backends of this database wait for a heavyweight lock (row, transaction or advisory). */
export async function untilWaitingOnLocks(observer: pg.Client, count = 1): Promise<void> {
  for (;;) {
    const { rows } = await observer.query<{ n: number }>(
      `SELECT count(*)::integer AS n FROM pg_stat_activity
        WHERE datname = current_database() AND wait_event_type = 'Lock'`,
    );
    if ((rows[0]?.n ?? 0) >= count) return;
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}
