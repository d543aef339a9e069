import pg from 'pg';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { migrate, MIGRATION_LOCK } from '../../../../relay/postgres/schema.ts';
import { startTestPostgres, type TestPostgres } from '../../../support/postgres.ts';
import { untilWaitingOnLocks } from './race-fixture.ts';

// A node migrates under an advisory lock; a second node starting meanwhile
// waits for it. Neither that wait nor a long migration may be cut off by the
// pool's statement timeout (30 s in production; 300 ms here, so the wait
// below outlasts it), or the node fails to start every time. The pool's
// connections keep their timeout afterwards.

let postgres: TestPostgres;
beforeAll(async () => {
  postgres = await startTestPostgres();
});
afterAll(async () => {
  await postgres.stop();
});

it('waits for another migration longer than the statement timeout, then keeps the timeout', async () => {
  const url = await postgres.createDatabase();
  const pool = new pg.Pool({ connectionString: url, statement_timeout: 300, max: 1 });
  // As the relay's pool does: an idle client's error (the server stopping) is not a crash.
  pool.on('error', () => undefined);
  const rival = new pg.Client({ connectionString: url });
  const observer = new pg.Client({ connectionString: url });
  await rival.connect();
  await observer.connect();
  try {
    await rival.query('SELECT pg_advisory_lock($1)', [MIGRATION_LOCK]);
    const migrating = migrate(pool);
    await untilWaitingOnLocks(observer);
    // Held well past the 300 ms timeout while the migration waits.
    await new Promise((resolve) => setTimeout(resolve, 900));
    await rival.query('SELECT pg_advisory_unlock($1)', [MIGRATION_LOCK]);
    await migrating;
    const { rows } = await pool.query<{ version: number }>('SELECT version FROM relay_schema');
    expect(rows[0]?.version).toBeGreaterThan(0);
    const shown = await pool.query<{ statement_timeout: string }>('SHOW statement_timeout');
    expect(shown.rows[0]?.statement_timeout).toBe('300ms');
  } finally {
    await rival.end();
    await observer.end();
    await pool.end();
  }
});
