import { randomBytes, randomUUID } from 'node:crypto';
import pg from 'pg';
import { afterAll, beforeAll, it } from 'vitest';
import { accountIdSchema } from '../../../../shared/protocol/account-id.ts';
import { PostgresRelayStorage } from '../../../../relay/postgres/storage.ts';
import type { Mailbox, NewEnvelope, StoreResult } from '../../../../relay/storage.ts';
import { startTestPostgres, type TestPostgres } from '../../../support/postgres.ts';

// What the hot-path suites share (hot-path.test.ts, batched.test.ts): a
// PostgreSQL server for the file, a fresh database per test, envelopes to
// random mailboxes and the counters next to the rows they count. Not a test file.

export const LIMITS = { mailboxQuota: 1_000, maxStorageBytes: 1e9 };
let postgres: TestPostgres;
beforeAll(async () => {
  postgres = await startTestPostgres();
});
afterAll(async () => {
  await postgres.stop();
});

export const box = (): Mailbox => ({ accountId: accountIdSchema.parse(randomUUID()), deviceId: 1 });
export const envelope = (
  to: Mailbox,
  bytes = 50,
  clientMessageId: string = randomUUID(),
): NewEnvelope => ({
  clientMessageId,
  to,
  body: randomBytes(bytes),
  receivedAt: 1,
});
export const idOf = (result: StoreResult | undefined): string => {
  if (result?.kind !== 'stored' && result?.kind !== 'duplicate') throw new Error('not stored');
  return result.envelopeId;
};

/** A test on a fresh database: a storage and an admin client on it (both closed after), and its URL. */
export const withDatabase = (
  name: string,
  body: (storage: PostgresRelayStorage, admin: pg.Client, url: string) => Promise<void>,
) =>
  it(name, async () => {
    const url = await postgres.createDatabase();
    const storage = await PostgresRelayStorage.open(url);
    const admin = new pg.Client({ connectionString: url });
    await admin.connect();
    try {
      await body(storage, admin, url);
    } finally {
      await admin.end();
      await storage.close();
    }
  });

/** What the counters say next to what the envelope rows hold. */
export async function counters(admin: pg.Client) {
  const { rows } = await admin.query(`
    SELECT (SELECT sum(bytes)::bigint FROM relay_usage) AS usage,
           (SELECT coalesce(sum(length(body)), 0)::bigint FROM envelope) AS held,
           (SELECT count(*)::int FROM mailbox m WHERE m.envelopes <>
              (SELECT count(*) FROM envelope e WHERE e.account_id = m.account_id AND e.device_id = m.device_id)
              OR m.bytes <> (SELECT coalesce(sum(length(body)), 0) FROM envelope e
                              WHERE e.account_id = m.account_id AND e.device_id = m.device_id)) AS wrong`);
  const row = rows[0] as { usage: string; held: string; wrong: number };
  return { usage: Number(row.usage), held: Number(row.held), wrongMailboxes: row.wrong };
}
