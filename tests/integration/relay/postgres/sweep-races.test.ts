import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, expect, it } from 'vitest';
import type { Mailbox, RelayStorage } from '../../../../relay/storage.ts';
import { startTestPostgres, type TestPostgres } from '../../../support/postgres.ts';
import { newDevice } from '../../../support/relay-client.ts';
import { untilWaitingOnLocks, withRival } from './race-fixture.ts';

// The TTL sweep against acks of the envelopes it expires. Both delete envelope
// rows before they update mailboxes, but each in its own order: the sweep by
// its row positions, an ack by its join over the ids it was given (and a
// node's ack batch holds the acks of many mailboxes, in arrival order). Here a
// second connection deletes as such an ack does, the later envelope first.

let postgres: TestPostgres;
beforeAll(async () => {
  postgres = await startTestPostgres();
});
afterAll(async () => {
  await postgres.stop();
});

const LIMITS = { mailboxQuota: 100, maxStorageBytes: 1_000_000 };

async function storeOld(storage: RelayStorage, to: Mailbox): Promise<string> {
  const [result] = await storage.storeEnvelopes(
    [{ clientMessageId: randomUUID(), to, body: new Uint8Array(10), receivedAt: 1_000 }],
    LIMITS,
  );
  if (result?.kind !== 'stored') throw new Error(`not stored: ${result?.kind}`);
  return result.envelopeId;
}

it('an ack deleting expired envelopes in another order than the sweep does not deadlock with it', async () => {
  await withRival(postgres, async (storage, ack, observer) => {
    const first = { accountId: newDevice().accountId, deviceId: 1 };
    const second = { accountId: newDevice().accountId, deviceId: 1 };
    const older = await storeOld(storage, first);
    const newer = await storeOld(storage, second);
    await ack.query('BEGIN');
    await ack.query('DELETE FROM envelope WHERE id = $1', [newer]);
    // The sweep takes the older row, then either waits on the newer one (the
    // ack holds it) or leaves it to the ack.
    const sweep = storage.expireBefore(2_000, 10);
    await Promise.race([sweep.catch(() => undefined), untilWaitingOnLocks(observer)]);
    const { rowCount } = await ack.query('DELETE FROM envelope WHERE id = $1', [older]);
    await ack.query('COMMIT');
    // Once PostgreSQL chose the sweep as a deadlock's victim (40P01) and rolled it back.
    expect(await sweep).toBe(1);
    expect(rowCount).toBe(0);
    expect(await storage.countQueued(first)).toBe(0);
    const { rows } = await observer.query('SELECT id FROM envelope');
    expect(rows).toEqual([]);
  });
});
