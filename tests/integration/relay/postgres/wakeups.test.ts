import { randomBytes, randomUUID } from 'node:crypto';
import pg from 'pg';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { accountIdSchema } from '../../../../shared/protocol/account-id.ts';
import { PostgresRelayStorage } from '../../../../relay/postgres/storage.ts';
import type { Wakeup } from '../../../../relay/postgres/wakeups.ts';
import { type Mailbox, pollSliceOf } from '../../../../relay/storage.ts';
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

/** The mailboxes a wakeup names (none for a rescan or a poll slice). */
const named = (wakeup: Wakeup): readonly Mailbox[] =>
  wakeup === 'all' || 'pollSlice' in wakeup ? [] : wakeup.map((arrival) => arrival.mailbox);

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
    else for (const m of named(wakeup)) seen.set(m.accountId, (seen.get(m.accountId) ?? 0) + 1);
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

it('a malformed or forged wakeup names nothing and breaks nothing; a later real one still arrives', async () => {
  const url = await postgres.createDatabase();
  const [sender, listener] = [
    await PostgresRelayStorage.open(url),
    await PostgresRelayStorage.open(url),
  ];
  const woken: string[] = [];
  listener.onEnvelopesArrived((wakeup) => {
    woken.push(...named(wakeup).map((m) => `${m.accountId}:${m.deviceId}`));
  });
  const admin = new pg.Client({ connectionString: url });
  await admin.connect();
  for (const junk of [
    '',
    'node',
    'node not-an-account:1 :: 00000000-0000-4000-8000-000000000001:x',
    `node ${'z'.repeat(7_900)}`,
    'node 00000000-0000-4000-8000-000000000001:1.5 00000000-0000-4000-8000-000000000001',
  ])
    await admin.query('SELECT pg_notify($1, $2)', ['sotto_relay_wake', junk]);
  await admin.end();
  const to: Mailbox = { accountId: accountIdSchema.parse(randomUUID()), deviceId: 3 };
  await sender.storeEnvelopes(
    [{ clientMessageId: randomUUID(), to, body: randomBytes(10), receivedAt: 1 }],
    LIMITS,
  );
  await until(() => woken.length > 0);
  expect(woken).toEqual([`${to.accountId}:3`]);
  await Promise.all([sender.close(), listener.close()]);
});

it('the slow poll names one slice of the mailboxes at a time, in turn, never all of them at once', async () => {
  const storage = await PostgresRelayStorage.open(await postgres.createDatabase());
  const slices: number[] = [];
  let all = 0;
  storage.onEnvelopesArrived((wakeup) => {
    if (wakeup === 'all') all += 1;
    else if ('pollSlice' in wakeup) {
      expect(wakeup.of).toBe(30);
      slices.push(wakeup.pollSlice);
    }
  });
  // About one slice a second (30 s / 30 slices).
  await until(() => slices.length >= 3);
  await storage.close();
  expect(all).toBe(0);
  for (let i = 1; i < slices.length; i++) expect(slices[i]).toBe((slices[i - 1]! + 1) % 30);
  // Mailboxes spread over every slice, so each slice re-reads about 1/30 of a node's connections.
  const counts = new Map<number, number>();
  for (let i = 0; i < 3_000; i++) {
    const slice = pollSliceOf({ accountId: accountIdSchema.parse(randomUUID()), deviceId: 1 }, 30);
    counts.set(slice, (counts.get(slice) ?? 0) + 1);
  }
  expect(counts.size).toBe(30);
  expect(Math.max(...counts.values())).toBeLessThan(200);
});
