import type pg from 'pg';

// The PostgreSQL storage's multi-statement transactions (keys, moves, blob
// creates, the sweep). The hot path's stores and acks are one autocommit
// statement each (pool.query), which the pool guards itself.

/**
 * Runs `step` in one transaction on a pooled client; rolls back on any throw.
 * A client whose connection failed is released broken (the pool drops it).
 */
export async function inTransaction<T>(
  pool: pg.Pool,
  step: (db: pg.PoolClient) => Promise<T>,
  isolation: 'READ COMMITTED' | 'REPEATABLE READ' = 'READ COMMITTED',
): Promise<T> {
  const client = await pool.connect();
  let broken = false;
  // The pool listens only on idle clients: a connection ending mid-transaction
  // would otherwise be an uncaught 'error' that ends the node (broken-transaction.test.ts).
  const died = (): void => {
    broken = true;
  };
  client.on('error', died);
  try {
    await client.query(`BEGIN ISOLATION LEVEL ${isolation}`);
    const value = await step(client);
    await client.query('COMMIT');
    return value;
  } catch (error) {
    await client.query('ROLLBACK').catch(() => {
      broken = true;
    });
    throw error;
  } finally {
    client.off('error', died);
    client.release(broken);
  }
}
