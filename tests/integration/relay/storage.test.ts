import { randomBytes, randomUUID } from 'node:crypto';
import { join } from 'node:path';
import Database from '@signalapp/sqlcipher';
import { describe, expect, it } from 'vitest';
import { accountIdSchema } from '../../../shared/protocol/account-id.ts';
import { SqliteRelayStorage } from '../../../relay/sqlite-storage.ts';
import { WorkerRelayStorage } from '../../../relay/worker-storage.ts';
import type { Mailbox, NewEnvelope, RelayStorage } from '../../../relay/storage.ts';
import { relayDataDir } from '../../support/relay-client.ts';

const mailbox = (n: number): Mailbox => ({
  accountId: accountIdSchema.parse(`00000000-0000-4000-8000-${String(n).padStart(12, '0')}`),
  deviceId: 1,
});
const envelope = (to: Mailbox, receivedAt: number, bytes = 100): NewEnvelope => ({
  clientMessageId: randomUUID(),
  to,
  body: randomBytes(bytes),
  receivedAt,
});
const limits = { mailboxQuota: 1_000_000, maxStorageBytes: 1e12 };

/** The counters the triggers keep, next to what COUNT(*) and SUM say. */
function countersAndTruth(dataDir: string) {
  const db = new Database(join(dataDir, 'relay.db'));
  const counters = db
    .prepare(
      "SELECT recipient, envelopes, bytes FROM mailbox_usage WHERE envelopes > 0 OR recipient = '' ORDER BY recipient",
    )
    .all();
  const truth = db
    .prepare(
      `SELECT recipient, count(*) AS envelopes, sum(length(body)) AS bytes FROM envelopes GROUP BY recipient
       UNION ALL SELECT '', count(*), coalesce(sum(length(body)), 0) FROM envelopes ORDER BY recipient`,
    )
    .all();
  db.close();
  return { counters, truth };
}

// The behaviour every backend shares is in the contract (storage-contract.ts);
// these pin what is SQLite's own: its trigger counters and its worker thread.
describe('SQLite relay storage', () => {
  it('the mailbox counters (no COUNT(*) on intake) always equal the envelopes stored, through stores, acks and expiry', async () => {
    const dataDir = relayDataDir();
    const storage = SqliteRelayStorage.open(dataDir);
    const [a, b] = [mailbox(1), mailbox(2)];
    await storage.storeEnvelopes(
      [...Array.from({ length: 30 }, (_, i) => envelope(a, i, 50 + i)), envelope(b, 100)],
      limits,
    );
    const queued = await storage.listQueued(a, 0, 10);
    await storage.deleteAcked(
      a,
      queued.map((e) => e.id),
    );
    await storage.expireBefore(20, 1_000);
    expect(await storage.countQueued(a)).toBe(10);
    expect(await storage.countQueued(b)).toBe(1);
    await storage.close();
    const { counters, truth } = countersAndTruth(dataDir);
    expect(counters).toEqual(truth);
  });

  it('the worker-thread storage commits stores made in one turn together and keeps each caller its own results', async () => {
    const dataDir = relayDataDir();
    const storage: RelayStorage = await WorkerRelayStorage.open(dataDir);
    const a = mailbox(6);
    const duplicate = envelope(a, 1);
    const [first, second, third] = await Promise.all([
      storage.storeEnvelopes([envelope(a, 1), duplicate], limits),
      storage.storeEnvelopes([{ ...duplicate, body: randomBytes(10) }], limits),
      storage.storeEnvelopes([envelope(a, 1)], { ...limits, mailboxQuota: 2 }),
    ]);
    expect(first.map((r) => r.kind)).toEqual(['stored', 'stored']);
    // The same (mailbox, client message id) in another caller's store of the same turn is recognised.
    expect(second).toEqual([
      { kind: 'duplicate', envelopeId: (first[1] as { envelopeId: string }).envelopeId },
    ]);
    // Other limits make another group, committed after: the quota of 2 is already reached.
    expect(third).toEqual([{ kind: 'mailbox-full' }]);
    expect(await storage.countQueued(a)).toBe(2);
    await storage.close();
  });
});
