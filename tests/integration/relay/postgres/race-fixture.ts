import pg from 'pg';
import { PostgresRelayStorage } from '../../../../relay/postgres/storage.ts';
import type { TestPostgres } from '../../../support/postgres.ts';

// Race tests make an interleaving deterministic by holding a lock in a second
// connection (the rival): they start the call under test, then wait, on what
// PostgreSQL reports (a third connection, the observer) rather than on a
// timer, until it is queued behind that lock.

/** Runs `test` on a fresh database's storage with a rival and an observer connection; closes all three. */
export async function withRival(
  postgres: TestPostgres,
  test: (storage: PostgresRelayStorage, rival: pg.Client, observer: pg.Client) => Promise<void>,
): Promise<void> {
  const url = await postgres.createDatabase();
  const storage = await PostgresRelayStorage.open(url);
  const rival = new pg.Client({ connectionString: url });
  const observer = new pg.Client({ connectionString: url });
  await rival.connect();
  await observer.connect();
  try {
    await test(storage, rival, observer);
  } finally {
    await rival.end();
    await observer.end();
    await storage.close();
  }
}

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
