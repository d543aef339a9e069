import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { startTestPostgres, type TestPostgres } from '../../../support/postgres.ts';
import { newDevice } from '../../../support/relay-client.ts';
import { publishedKeysFor } from '../fixtures.ts';
import { untilWaitingOnLocks, withRival } from './race-fixture.ts';

// A move (markMoved) against a key publish of the account it moves: the old
// account's device may still have a publish on its way when the new account's
// move commits on another node. A second connection holds the move's
// transaction open (its UPDATE and deletes, as markMoved makes them) while
// the publish runs.

let postgres: TestPostgres;
beforeAll(async () => {
  postgres = await startTestPostgres();
});
afterAll(async () => {
  await postgres.stop();
});

it('a key publish racing a move of its account stores nothing once the move commits', async () => {
  await withRival(postgres, async (storage, move, observer) => {
    const device = newDevice();
    const id = device.accountId;
    await storage.bindIdentityKey(id, randomBytes(33), 1);
    expect(await storage.publishKeys(publishedKeysFor(device, 2), 1, 100)).toBe('ok');
    await move.query('BEGIN');
    await move.query('UPDATE account SET moved_at = 2 WHERE account_id = $1', [id]);
    await move.query('DELETE FROM device_keys WHERE account_id = $1', [id]);
    await move.query('DELETE FROM one_time_key WHERE account_id = $1', [id]);
    const publish = storage.publishKeys(publishedKeysFor(device, 3, 10), 3, 100);
    await untilWaitingOnLocks(observer);
    await move.query('COMMIT');
    expect(await publish).toBe('moved');
    expect(await storage.keyIds(id, 1)).toEqual({
      preKeyIds: [],
      kyberPreKeyIds: [],
      signedPreKeyId: null,
      lastResortKyberPreKeyId: null,
    });
    expect(await storage.takeBundle(id, 1, 1)).toBeUndefined();
  });
});
