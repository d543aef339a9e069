import { randomBytes, randomUUID } from 'node:crypto';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { accountIdSchema } from '../../../../shared/protocol/account-id.ts';
import { PostgresRelayStorage } from '../../../../relay/postgres/storage.ts';
import type { Mailbox } from '../../../../relay/storage.ts';
import { startTestPostgres, type TestPostgres } from '../../../support/postgres.ts';

// The wakeup channel between two storages (two nodes) across a database
// crash: the LISTEN connection comes back once, asks for a rescan, and every
// later wakeup arrives exactly once (a naive reconnect doubled listeners).

const LIMITS = { mailboxQuota: 1000, maxStorageBytes: 1e9 };
let postgres: TestPostgres;
beforeAll(async () => {
  postgres = await startTestPostgres({ durable: true });
});
afterAll(async () => {
  await postgres.stop();
});

/** Resolves once `check` holds, polling each turn of a 10 ms timer; fails after 30 s. */
async function until(check: () => boolean): Promise<void> {
  const deadline = Date.now() + 30_000;
  while (!check()) {
    if (Date.now() > deadline) throw new Error('condition not reached');
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}

it('after a database crash each node re-listens once, rescans, and then sees every wakeup exactly once', async () => {
  const url = await postgres.createDatabase();
  const [sender, listener] = [
    await PostgresRelayStorage.open(url),
    await PostgresRelayStorage.open(url),
  ];
  const seen = new Map<string, number>();
  let rescans = 0;
  listener.onEnvelopesArrived((wakeup) => {
    if (wakeup === 'all') rescans += 1;
    else for (const m of wakeup) seen.set(m.accountId, (seen.get(m.accountId) ?? 0) + 1);
  });
  const box = (): Mailbox => ({ accountId: accountIdSchema.parse(randomUUID()), deviceId: 1 });
  const store = (to: Mailbox) =>
    sender.storeEnvelopes(
      [{ clientMessageId: randomUUID(), to, body: randomBytes(10), receivedAt: 1 }],
      LIMITS,
    );

  const before = box();
  await store(before);
  await until(() => seen.has(before.accountId));

  await postgres.crash();
  await postgres.restart();
  await until(() => rescans >= 1);
  const after = Array.from({ length: 20 }, box);
  for (const to of after) {
    // The pool's first queries after the crash may still meet dead connections: retry those.
    for (let attempt = 0; ; attempt++) {
      try {
        await store(to);
        break;
      } catch (error) {
        if (attempt > 50) throw error;
      }
    }
  }
  const sentinel = box();
  await store(sentinel);
  await until(() => seen.has(sentinel.accountId));
  expect(after.map((m) => seen.get(m.accountId))).toEqual(Array(20).fill(1));
  expect(rescans).toBe(1);
  await Promise.all([sender.close(), listener.close()]);
});
