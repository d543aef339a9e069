import { randomBytes } from 'node:crypto';
import { readdirSync, readFileSync, readlinkSync } from 'node:fs';
import pg from 'pg';
import { describe, expect, it } from 'vitest';
import {
  connectAnonymous,
  connectAs,
  newToken,
  registeredDevice,
} from '../../../support/relay-client.ts';
import { useCluster } from './cluster-fixture.ts';
import { publishedKeysFor, sendFrame, sendOk } from '../fixtures.ts';

// Migration 5 across real relay nodes over one PostgreSQL: a node's memory of
// delivery tokens (relay/delivery-tokens.ts) never outlives a change made on
// another node, and acks waiting in a node's batch window when it is killed
// are redelivered, not lost, with the counters still exact.

const cluster = useCluster(2);

async function admin<T>(step: (db: pg.Client) => Promise<T>): Promise<T> {
  const db = new pg.Client({ connectionString: cluster.database });
  await db.connect();
  try {
    return await step(db);
  } finally {
    await db.end();
  }
}

/** The local ports of a process's TCP connections to `port` (its PostgreSQL sessions), from /proc. */
function portsTo(pid: number, port: number): Set<number> {
  const inodes = new Set(
    readdirSync(`/proc/${pid}/fd`)
      .map((fd) => /^socket:\[(\d+)\]$/.exec(readlinkSync(`/proc/${pid}/fd/${fd}`))?.[1])
      .filter((inode) => inode !== undefined),
  );
  const ports = new Set<number>();
  for (const table of ['/proc/net/tcp', '/proc/net/tcp6'])
    for (const line of readFileSync(table, 'utf8').split('\n').slice(1)) {
      const fields = line.trim().split(/\s+/);
      const [local, remote, inode] = [fields[1], fields[2], fields[9]];
      if (local === undefined || remote === undefined || !inodes.has(inode ?? '')) continue;
      if (parseInt(remote.split(':')[1]!, 16) === port)
        ports.add(parseInt(local.split(':')[1]!, 16));
    }
  return ports;
}

/** Waits until PostgreSQL has no session left from these client ports (a killed node's statements all ended). */
async function sessionsGone(ports: ReadonlySet<number>): Promise<void> {
  const deadline = Date.now() + 60_000;
  for (;;) {
    const { rows } = await admin((db) =>
      db.query('SELECT client_port FROM pg_stat_activity WHERE client_port = ANY ($1)', [
        [...ports],
      ]),
    );
    if (rows.length === 0) return;
    if (Date.now() > deadline) throw new Error('the killed node kept its sessions');
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

describe('relay nodes: cached delivery tokens and batched acks', () => {
  it('a token rotated on node A is refused at once on node B, which had the old one in memory', async () => {
    const [a, b] = cluster.nodes;
    const bob = await registeredDevice(a!.url);
    await bob.client.request({ type: 'keys.publish', keys: publishedKeysFor(bob.device, 5) });
    const sender = await connectAnonymous(b!.url);
    // Twice: the second send is answered from B's memory of the token.
    await sendOk(sender, bob.device, bob.token);
    await sendOk(sender, bob.device, bob.token);
    const rotated = newToken();
    expect(await bob.client.request({ type: 'token.set', token: rotated })).toMatchObject({
      type: 'ok',
    });
    expect(await sender.request(sendFrame(bob.device, bob.token, randomBytes(16)))).toMatchObject({
      code: 'RELAY_ERR_BAD_TOKEN',
    });
    // And in a batch: the stale member is refused alone.
    const batch = await sender.request({
      type: 'send.batch',
      envelopes: [bob.token, rotated, bob.token].map((token) => ({
        ...sendFrame(bob.device, token, randomBytes(16)).envelope,
      })),
    });
    if (batch.type !== 'sent') throw new Error(`batch refused: ${batch.type}`);
    expect(batch.results.map((r) => ('error' in r ? r.error : 'stored'))).toEqual([
      'RELAY_ERR_BAD_TOKEN',
      'stored',
      'RELAY_ERR_BAD_TOKEN',
    ]);
    // A bundle fetch is never answered from memory.
    const fetch = { type: 'keys.fetch', accountId: bob.device.accountId, deviceId: 1 } as const;
    expect(await sender.request({ ...fetch, token: bob.token })).toMatchObject({
      code: 'RELAY_ERR_BAD_TOKEN',
    });
    await sendOk(sender, bob.device, rotated);
    // Moved by another node (its row, as account.move leaves it): B says so to the token holder.
    await admin((db) =>
      db.query('UPDATE account SET moved_at = 1 WHERE account_id = $1', [bob.device.accountId]),
    );
    expect(await sender.request(sendFrame(bob.device, rotated, randomBytes(16)))).toMatchObject({
      code: 'RELAY_ERR_ACCOUNT_MOVED',
    });
    const queued = await admin(async (db) => {
      const { rows } = await db.query('SELECT envelopes FROM mailbox WHERE account_id = $1', [
        bob.device.accountId,
      ]);
      return (rows[0] as { envelopes: number }).envelopes;
    });
    // The two first sends, the batch's middle one and the rotated one: nothing refused was stored.
    expect(queued).toBe(4);
    await Promise.all([bob.client.close(), sender.close()]);
  });

  it('kill -9 of a node holding acks in its batch window: what they named is redelivered or gone, never half', async () => {
    const [a, b] = cluster.nodes;
    const bob = await registeredDevice(b!.url);
    await bob.client.close();
    const sender = await connectAnonymous(b!.url);
    const sent = new Set<string>();
    for (let i = 0; i < 120; i++) sent.add(await sendOk(sender, bob.device, bob.token));
    const { client: first } = await connectAs(a!.url, bob.device);
    const pushed: string[] = [];
    while (pushed.length < sent.size)
      pushed.push(...(await first.next('envelopes')).envelopes.map((e) => e.id));
    // Acks of 30 each, sent without waiting, then the node dies inside its ack window (ACK_WINDOW_MS).
    for (let i = 0; i < pushed.length; i += 30)
      first.sendJson({ type: 'ack', id: 1000 + i, envelopeIds: pushed.slice(i, i + 30) });
    const sessions = portsTo(a!.pid, Number(new URL(cluster.database).port));
    expect(sessions.size).toBeGreaterThan(0);
    process.kill(a!.pid, 'SIGKILL');
    cluster.nodes = cluster.nodes.filter((n) => n !== a);
    await first.closed;
    // A statement the node sent before dying still runs to its end: read the rows after it.
    await sessionsGone(sessions);
    const left = await admin(async (db) => {
      const { rows } = await db.query('SELECT id FROM envelope WHERE account_id = $1', [
        bob.device.accountId,
      ]);
      return new Set(rows.map((r) => (r as { id: string }).id));
    });
    // Whatever the acks did not commit is redelivered on node B, and only that.
    const { client: second, ready } = await connectAs(b!.url, bob.device);
    expect(ready.queued).toBe(left.size);
    const again: string[] = [];
    while (again.length < left.size)
      again.push(...(await second.next('envelopes')).envelopes.map((e) => e.id));
    expect(new Set(again)).toEqual(left);
    expect(pushed.every((id) => sent.has(id))).toBe(true);
    expect(new Set(pushed)).toEqual(sent);
    if (again.length > 0)
      expect(await second.request({ type: 'ack', envelopeIds: again })).toMatchObject({
        type: 'ok',
      });
    const counters = await admin(async (db) => {
      const { rows } = await db.query(
        `SELECT (SELECT count(*)::int FROM envelope WHERE account_id = $1) AS rows,
                (SELECT envelopes FROM mailbox WHERE account_id = $1) AS counted,
                (SELECT bytes FROM mailbox WHERE account_id = $1)::int AS bytes`,
        [bob.device.accountId],
      );
      return rows[0] as { rows: number; counted: number; bytes: number };
    });
    expect(counters).toEqual({ rows: 0, counted: 0, bytes: 0 });
    await Promise.all([second.close(), sender.close()]);
  });
});
