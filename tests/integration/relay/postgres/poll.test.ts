import { randomBytes, randomUUID } from 'node:crypto';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { accountIdSchema } from '../../../../shared/protocol/account-id.ts';
import { fromBase64 } from '../../../../shared/protocol/encoding.ts';
import { pollMailboxes, type PolledPeer } from '../../../../relay/mailbox-poll.ts';
import { PostgresRelayStorage } from '../../../../relay/postgres/storage.ts';
import { SqliteRelayStorage } from '../../../../relay/sqlite-storage.ts';
import type { Mailbox } from '../../../../relay/storage.ts';
import { startTestPostgres, type TestPostgres } from '../../../support/postgres.ts';
import { registeredDevice, relayDataDir } from '../../../support/relay-client.ts';
import { startRelayProcess, useRelayStore } from '../../../support/relay-process.ts';

// The slow poll and the rescan after a missed wakeup (docs/relay-operations.md
// #cross-node-delivery): one read tells which local mailboxes hold anything,
// and only their connections re-read. Real PostgreSQL, real relay process.

const LIMITS = { mailboxQuota: 1000, maxStorageBytes: 1e9 };
let postgres: TestPostgres;
beforeAll(async () => {
  postgres = await startTestPostgres();
});
afterAll(async () => {
  await postgres.stop();
});

const box = (deviceId = 1): Mailbox => ({
  accountId: accountIdSchema.parse(randomUUID()),
  deviceId,
});
const keyOf = (m: Mailbox) => `${m.accountId}:${m.deviceId}`;

async function store(storage: PostgresRelayStorage, to: Mailbox, count: number): Promise<void> {
  await storage.storeEnvelopes(
    Array.from({ length: count }, () => ({
      clientMessageId: randomUUID(),
      to,
      body: randomBytes(10),
      receivedAt: 1,
    })),
    LIMITS,
  );
}

/** A connection as the poll sees it, recording what it was told. */
function recorder(loggedIn: Mailbox | undefined) {
  const told = { arrived: 0, newest: [] as number[] };
  const peer: PolledPeer = {
    loggedIn,
    envelopesArrived: () => (told.arrived += 1),
    newestQueued: (seq) => told.newest.push(seq),
  };
  return { peer, told };
}

describe('newestQueued on PostgreSQL', () => {
  it('names only the mailboxes holding envelopes, each with its newest seq, in one read of thousands', async () => {
    const storage = await PostgresRelayStorage.open(await postgres.createDatabase());
    try {
      const full = box();
      const sibling = { accountId: full.accountId, deviceId: 2 };
      const drained = box();
      const neverUsed = box();
      await store(storage, full, 3);
      await store(storage, drained, 2);
      const queued = await storage.listQueued(drained, 0, 10);
      await storage.deleteAcked(
        drained,
        queued.map((e) => e.id),
      );
      const newest = (await storage.listQueued(full, 0, 10)).at(-1)!.seq;
      const strangers = Array.from({ length: 2_500 }, () => box());
      const answer = await storage.newestQueued([
        full,
        sibling,
        drained,
        neverUsed,
        ...strangers,
        full,
      ]);
      // The duplicate in the question may be answered twice; it names the same seq.
      expect(new Set(answer.map((a) => `${keyOf(a.mailbox)}@${a.seq}`))).toEqual(
        new Set([`${keyOf(full)}@${newest}`]),
      );
    } finally {
      await storage.close();
    }
  });

  it('another account with mail is never named for a question that did not ask for it', async () => {
    const storage = await PostgresRelayStorage.open(await postgres.createDatabase());
    try {
      const other = box();
      await store(storage, other, 1);
      expect(await storage.newestQueued([box(), { ...box(), deviceId: 127 }])).toEqual([]);
      expect(await storage.newestQueued([])).toEqual([]);
    } finally {
      await storage.close();
    }
  });
});

describe('pollMailboxes', () => {
  it('tells only the connections whose mailbox holds mail, with its newest seq; anonymous and empty ones are left alone', async () => {
    const storage = await PostgresRelayStorage.open(await postgres.createDatabase());
    try {
      const full = box();
      const empty = box();
      await store(storage, full, 2);
      const newest = (await storage.listQueued(full, 0, 10)).at(-1)!.seq;
      const [first, second, idle, anonymous] = [
        recorder(full),
        recorder(full),
        recorder(empty),
        recorder(undefined),
      ];
      await pollMailboxes(storage, [first.peer, second.peer, idle.peer, anonymous.peer]);
      expect(first.told).toEqual({ arrived: 0, newest: [newest] });
      expect(second.told).toEqual({ arrived: 0, newest: [newest] });
      expect(idle.told).toEqual({ arrived: 0, newest: [] });
      expect(anonymous.told).toEqual({ arrived: 0, newest: [] });
    } finally {
      await storage.close();
    }
  });

  it('2,500 connections (three reads of up to 1,000): exactly the three with mail are told, wherever they fall', async () => {
    const storage = await PostgresRelayStorage.open(await postgres.createDatabase());
    try {
      const peers = Array.from({ length: 2_500 }, () => recorder(box()));
      const withMail = [peers[0]!, peers[1_500]!, peers[2_499]!];
      for (const { peer } of withMail) await store(storage, peer.loggedIn!, 1);
      await pollMailboxes(
        storage,
        peers.map((p) => p.peer),
      );
      const told = peers.filter((p) => p.told.newest.length > 0);
      expect(told).toEqual(withMail);
      expect(peers.every((p) => p.told.arrived === 0 && p.told.newest.length <= 1)).toBe(true);
    } finally {
      await storage.close();
    }
  });

  it('a storage that fails the read: nothing thrown, nobody told (the next poll retries)', async () => {
    const storage = await PostgresRelayStorage.open(await postgres.createDatabase());
    await storage.close();
    const peer = recorder(box());
    await expect(pollMailboxes(storage, [peer.peer])).resolves.toBeUndefined();
    expect(peer.told).toEqual({ arrived: 0, newest: [] });
  });

  it('a storage that cannot answer for many mailboxes (SQLite): every logged-in connection re-reads', async () => {
    const storage = SqliteRelayStorage.open(relayDataDir());
    try {
      const [loggedIn, anonymous] = [recorder(box()), recorder(undefined)];
      await pollMailboxes(storage, [loggedIn.peer, anonymous.peer]);
      expect(loggedIn.told).toEqual({ arrived: 1, newest: [] });
      expect(anonymous.told).toEqual({ arrived: 0, newest: [] });
    } finally {
      await storage.close();
    }
  });
});

it('mail stored with no wakeup at all (a lost NOTIFY) reaches its connected recipient at the rescan, and nobody else', async () => {
  const database = await postgres.createDatabase();
  useRelayStore(() => Promise.resolve(['--database', database]));
  const node = await startRelayProcess(relayDataDir());
  const admin = new pg.Client({ connectionString: database });
  await admin.connect();
  try {
    const bob = await registeredDevice(node.url);
    const carol = await registeredDevice(node.url);
    const body = randomBytes(32);
    // Straight into the tables, as another node would, minus its NOTIFY.
    await admin.query(
      'INSERT INTO mailbox (account_id, device_id) VALUES ($1, $2) ON CONFLICT DO NOTHING',
      [bob.device.accountId, bob.device.deviceId],
    );
    await admin.query('SELECT * FROM relay_store($1, $2, $3, $4, $5, 1000, 1000000000, 0, $6)', [
      bob.device.accountId,
      bob.device.deviceId,
      randomUUID(),
      body,
      Date.now(),
      randomBytes(16).toString('base64url'),
    ]);
    // The LISTEN connection drops: the node re-listens and rescans its mailboxes.
    const cut = await admin.query(
      "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE query LIKE 'LISTEN%' AND pid <> pg_backend_pid()",
    );
    expect(cut.rowCount).toBe(1);
    const [pushed] = await bob.client.envelopes(1);
    expect(Buffer.from(fromBase64(pushed!.body))).toEqual(body);
    // Carol's mailbox holds nothing: the rescan pushed her nothing (a ping answered after it proves the order).
    expect(await carol.client.request({ type: 'ping' })).toMatchObject({ type: 'pong' });
    expect(carol.client.history.filter((frame) => frame.type === 'envelopes')).toEqual([]);
    await Promise.all([bob.client.close(), carol.client.close()]);
  } finally {
    await admin.end();
    await node.stop();
  }
});
