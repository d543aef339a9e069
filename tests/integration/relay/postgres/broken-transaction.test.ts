import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { startTestPostgres, type TestPostgres } from '../../../support/postgres.ts';
import { newDevice } from '../../../support/relay-client.ts';
import { untilWaitingOnLocks, withRival } from './race-fixture.ts';

// A connection that dies in the middle of a transaction (PostgreSQL restarted,
// an operator or a timeout ended the backend). The pool takes its error
// listener off a client it hands out, and node-postgres emits 'error' on a
// client whose connection ends unexpectedly: with nobody listening, that was
// an uncaught exception, which ends a relay node. Here the transaction waits
// on a row another connection holds, and that backend is terminated.

let postgres: TestPostgres;
beforeAll(async () => {
  postgres = await startTestPostgres();
});
afterAll(async () => {
  await postgres.stop();
});

it('a transaction whose connection is killed fails that call only, and the next calls work', async () => {
  await withRival(postgres, async (storage, rival, observer) => {
    const uncaught: unknown[] = [];
    const collect = (error: unknown) => uncaught.push(error);
    process.on('uncaughtException', collect);
    try {
      const { accountId } = newDevice();
      await storage.bindIdentityKey(accountId, randomBytes(33), 1);
      await rival.query('BEGIN');
      await rival.query('SELECT 1 FROM account WHERE account_id = $1 FOR UPDATE', [accountId]);
      const move = storage.markMoved(accountId, 2);
      await untilWaitingOnLocks(observer);
      await observer.query(
        `SELECT pg_terminate_backend(pid) FROM pg_stat_activity
        WHERE datname = current_database() AND wait_event_type = 'Lock'`,
      );
      await expect(move).rejects.toThrow();
      await rival.query('ROLLBACK');
      // Let an 'error' event with no listener surface before looking.
      await new Promise((resolve) => setImmediate(resolve));
      expect(uncaught).toEqual([]);
      // The pool dropped the dead client: every pooled connection answers again.
      await Promise.all(Array.from({ length: 12 }, () => storage.account(accountId)));
      await storage.markMoved(accountId, 3);
      expect((await storage.account(accountId))?.moved).toBe(true);
    } finally {
      process.off('uncaughtException', collect);
    }
  });
});
