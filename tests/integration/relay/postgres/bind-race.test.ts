import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { startTestPostgres, type TestPostgres } from '../../../support/postgres.ts';
import { newDevice } from '../../../support/relay-client.ts';
import { untilWaitingOnLocks, withRival } from './race-fixture.ts';

// Two first logins of one account on PostgreSQL, made deterministic: another
// transaction has inserted the account row but not committed when the bind
// starts. The bind's insert waits on it and then conflicts; a read in the
// same statement cannot see the row (its snapshot predates the commit), which
// once answered nothing and failed the login with RELAY_ERR_INTERNAL (CI saw
// it as five simultaneous first logins of one account).

let postgres: TestPostgres;
beforeAll(async () => {
  postgres = await startTestPostgres();
});
afterAll(async () => {
  await postgres.stop();
});

it('a first bind that waits on another first bind returns the key that one committed', async () => {
  await withRival(postgres, async (storage, rival, observer) => {
    const { accountId } = newDevice();
    const committed = randomBytes(33);
    await rival.query('BEGIN');
    await rival.query(
      'INSERT INTO account (account_id, identity_key, bound_at) VALUES ($1, $2, $3)',
      [accountId, committed, 1],
    );
    const bind = storage.bindIdentityKey(accountId, randomBytes(33), 2);
    // The bind's insert is queued behind the uncommitted row until the rival commits.
    await untilWaitingOnLocks(observer);
    await rival.query('COMMIT');
    expect(Buffer.from(await bind)).toEqual(committed);
    expect(Buffer.from((await storage.account(accountId))?.identityKey ?? [])).toEqual(committed);
  });
});
