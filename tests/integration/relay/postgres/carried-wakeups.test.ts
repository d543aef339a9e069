import { randomBytes, randomUUID } from 'node:crypto';
import pg from 'pg';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { accountIdSchema } from '../../../../shared/protocol/account-id.ts';
import { PostgresRelayStorage } from '../../../../relay/postgres/storage.ts';
import { WAKE_CHANNEL } from '../../../../relay/postgres/wakeups.ts';
import type { Arrival, Mailbox } from '../../../../relay/storage.ts';
import { waitFor } from '../../../support/blob-http.ts';
import { startTestPostgres, type TestPostgres } from '../../../support/postgres.ts';

// Wakeups that carry the envelopes a node stored (migration 6,
// relay/postgres/wake-payload.ts) between two storages (two nodes) on one
// PostgreSQL: what node B is handed is byte for byte the row it would have
// read; a NOTIFY forged on the channel by another role that may connect (but
// not read relay_meta's wake key) is at most a wakeup.

const LIMITS = { mailboxQuota: 1000, maxStorageBytes: 1e9 };
let postgres: TestPostgres;
let url: string;
let a: PostgresRelayStorage;
let b: PostgresRelayStorage;
const arrivals: Arrival[] = [];

beforeAll(async () => {
  postgres = await startTestPostgres();
  url = await postgres.createDatabase();
  [a, b] = [await PostgresRelayStorage.open(url), await PostgresRelayStorage.open(url)];
  b.onEnvelopesArrived((wakeup) => {
    if (wakeup !== 'all' && !('pollSlice' in wakeup)) arrivals.push(...wakeup);
  });
});
afterAll(async () => {
  await Promise.all([a.close(), b.close()]);
  await postgres.stop();
});

const box = (): Mailbox => ({ accountId: accountIdSchema.parse(randomUUID()), deviceId: 3 });
const about = (mailbox: Mailbox) =>
  arrivals.filter((arrival) => arrival.mailbox.accountId === mailbox.accountId);

/** Waits (30 s budget: the machine may be busy) until node B was handed what `check` looks for. */
const until = (check: () => boolean) => waitFor(check, 'arrivals on node B', 30_000);

it('a store on node A reaches node B with its envelopes exactly as their rows hold them, in seq order', async () => {
  const to = box();
  const stored = await a.storeEnvelopes(
    Array.from({ length: 3 }, () => ({
      clientMessageId: randomUUID(),
      to,
      body: randomBytes(300),
      receivedAt: Date.now(),
    })),
    LIMITS,
  );
  expect(stored.map((r) => (r.kind === 'stored' ? r.seq : undefined))).toEqual([1, 2, 3]);
  await until(() => about(to).length > 0);
  const carried = about(to).flatMap((arrival) => arrival.envelopes ?? []);
  expect(carried).toEqual(await b.listQueued(to, 0, 10));
});

it('a body too big to carry: the mailbox is only woken (B reads it)', async () => {
  const to = box();
  const big = { clientMessageId: randomUUID(), to, body: randomBytes(4000), receivedAt: 1 };
  await a.storeEnvelopes([big], LIMITS);
  await until(() => about(to).length > 0);
  expect(about(to)).toEqual([{ mailbox: to }]);
});

it('one body of a batch too big to carry: none of that mailbox rides (B reads), another mailbox still does', async () => {
  const [to, other] = [box(), box()];
  const envelope = (mailbox: Mailbox, bytes: number) => ({
    clientMessageId: randomUUID(),
    to: mailbox,
    body: randomBytes(bytes),
    receivedAt: Date.now(),
  });
  await a.storeEnvelopes(
    [envelope(to, 100), envelope(to, 4000), envelope(to, 100), envelope(other, 100)],
    LIMITS,
  );
  await until(() => about(to).length > 0 && about(other).length > 0);
  expect(about(to)).toEqual([{ mailbox: to }]);
  expect(about(other)).toEqual([{ mailbox: other, envelopes: await b.listQueued(other, 0, 10) }]);
});

it('forged by a role that may connect: carried envelopes are dropped, the wakeup stays a wakeup', async () => {
  const admin = new pg.Client({ connectionString: url });
  await admin.connect();
  const role = `stranger_${randomBytes(4).toString('hex')}`;
  await admin.query(`CREATE ROLE ${role} LOGIN`);
  // Connect, yes; read the relay's tables (and so the wake key), no.
  const denied = await admin.query(
    `SELECT has_table_privilege('${role}', 'relay_meta', 'SELECT') AS can`,
  );
  expect(denied.rows[0]).toEqual({ can: false });
  await admin.end();
  const stranger = new pg.Client({ connectionString: url.replace(/\/\/[^@]+@/, `//${role}@`) });
  await stranger.connect();
  const to = box();
  const body = Buffer.from('forged bytes the relay never stored').toString('base64url');
  const item = `+${to.accountId}:${to.deviceId}:1:${'f'.repeat(22)}:${Date.now()}:${body}`;
  for (const payload of [
    `intruder ${to.accountId}:${to.deviceId} ${item}`,
    `intruder ${to.accountId}:${to.deviceId} ${item} #${'A'.repeat(22)}`,
    `intruder ${'x'.repeat(7900)}`,
  ])
    await stranger.query('SELECT pg_notify($1, $2)', [WAKE_CHANNEL, payload]);
  // Oversized: PostgreSQL itself refuses a payload of 8,000 bytes or more.
  await expect(
    stranger.query('SELECT pg_notify($1, $2)', [WAKE_CHANNEL, 'y'.repeat(8000)]),
  ).rejects.toThrow();
  await stranger.end();
  await until(() => about(to).length >= 2);
  expect(about(to)).toEqual([{ mailbox: to }, { mailbox: to }]);
  expect(await b.listQueued(to, 0, 10)).toEqual([]);
});
