import { log } from '../log.ts';

// The hot path's store and ack calls are one autocommit statement each, so a
// call PostgreSQL rolls back to break a lock cycle (SQLSTATE 40P01) did
// nothing at all and can simply run again. This release's functions lock in
// one total order (ack-order-migration.ts), so a cycle needs something else
// in it: a node of an earlier release during a rolling upgrade, or an
// operator's transaction. One retry answers the client instead of
// RELAY_ERR_INTERNAL; a second deadlock in a row is an error like any other.

/** SQLSTATE of the transaction PostgreSQL chose to roll back out of a deadlock. */
const DEADLOCK_DETECTED = '40P01';

function isDeadlock(error: unknown): boolean {
  return (
    typeof error === 'object' &&
    error !== null &&
    (error as { code?: unknown }).code === DEADLOCK_DETECTED
  );
}

/** Runs one autocommit statement's call; runs it once more if PostgreSQL rolled it back as a deadlock victim. */
export async function retryDeadlockOnce<T>(call: () => Promise<T>): Promise<T> {
  try {
    return await call();
  } catch (error) {
    if (!isDeadlock(error)) throw error;
    log.warn('storage.deadlock_retried');
    return await call();
  }
}
