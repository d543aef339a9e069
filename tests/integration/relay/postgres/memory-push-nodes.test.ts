import { randomBytes } from 'node:crypto';
import pg from 'pg';
import { expect, it } from 'vitest';
import { WAKE_CHANNEL } from '../../../../relay/postgres/wakeups.ts';
import { connectAs, registeredDevice } from '../../../support/relay-client.ts';
import { useCluster } from './cluster-fixture.ts';
import { deduplicated, positionOf, receiveStream, sendStream } from '../cluster.ts';

// Pushes without the read (migration 6) between real relay processes over one
// durable PostgreSQL: a node pushes what it stored itself from memory, what
// another node stored from the wakeup payload, each only when it follows what
// the connection was pushed. Order per device across senders on two nodes,
// and a node killed while such pushes are in flight.

const range = (from: number, to: number) => Array.from({ length: to - from }, (_, i) => from + i);

const cluster = useCluster(2);

it('two senders on two nodes into one device: every envelope once, each sender in its own order', async () => {
  const [a, b] = cluster.nodes;
  const bob = await registeredDevice(b!.url);
  await bob.client.close();
  const receiving = receiveStream(() => [b!.url], bob.device, 1_200);
  await Promise.all([
    // Stored on A: reaches B in the wakeup payload.
    sendStream(() => [a!.url], bob.device, bob.token, 0, 600),
    // Stored on B itself: pushed from its memory.
    sendStream(() => [b!.url], bob.device, bob.token, 600, 1_200),
  ]);
  const received = await receiving;
  // Nothing died: no redelivery at all.
  expect([...received.positions].sort((x, y) => x - y)).toEqual(range(0, 1_200));
  expect(received.positions.filter((p) => p < 600)).toEqual(range(0, 600));
  expect(received.positions.filter((p) => p >= 600)).toEqual(range(600, 1_200));
  expect(received.connections).toBe(1);
});

it('a stranger role NOTIFYing forged envelopes that follow the cursor: the device gets only what was stored', async () => {
  const [a, b] = cluster.nodes;
  const bob = await registeredDevice(b!.url);
  await bob.client.close();
  const { client } = await connectAs(b!.url, bob.device);
  await sendStream(() => [a!.url], bob.device, bob.token, 0, 1);
  const first = (await client.next('envelopes')).envelopes;
  expect(first.map(positionOf)).toEqual([0]);
  await client.request({ type: 'ack', envelopeIds: first.map((e) => e.id) });
  // Any role that may connect can NOTIFY; only the relay's role reads the wake key.
  const admin = new pg.Client({ connectionString: cluster.database });
  await admin.connect();
  const role = `stranger_${randomBytes(4).toString('hex')}`;
  await admin.query(`CREATE ROLE ${role} LOGIN`);
  await admin.end();
  const stranger = new pg.Client({
    connectionString: cluster.database.replace(/\/\/[^@]+@/, `//${role}@`),
  });
  await stranger.connect();
  const mailbox = `${bob.device.accountId}:${bob.device.deviceId}`;
  const forged = `+${mailbox}:2:${'F'.repeat(22)}:${Date.now()}:${Buffer.alloc(64).toString('base64url')}`;
  for (const tail of ['', ` #${'A'.repeat(22)}`])
    await stranger.query('SELECT pg_notify($1, $2)', [
      WAKE_CHANNEL,
      `x ${mailbox} ${forged}${tail}`,
    ]);
  await stranger.end();
  await sendStream(() => [a!.url], bob.device, bob.token, 1, 2);
  const next = (await client.next('envelopes')).envelopes;
  expect(next.map(positionOf)).toEqual([1]);
  expect(next[0]!.id).not.toBe('F'.repeat(22));
  await client.close();
});

it('kill -9 of the node pushing its own stores from memory: the device reconnects elsewhere and loses nothing', async () => {
  const [a, b] = cluster.nodes;
  const bob = await registeredDevice(a!.url);
  await bob.client.close();
  let killed = false;
  const urls = () => (killed ? [b!.url] : [a!.url]);
  const receiving = receiveStream(urls, bob.device, 1_500, undefined, (seen) => {
    if (!killed && seen.ids.length >= 400) {
      killed = true;
      process.kill(a!.pid, 'SIGKILL');
    }
  });
  // The sender on the same node as the recipient until it dies, then on B.
  await sendStream(urls, bob.device, bob.token, 0, 1_500);
  const received = await receiving;
  expect(killed).toBe(true);
  // What was pushed and not acked is redelivered (same envelope id), and a batch
  // whose answer the kill lost is resubmitted to B, stored anew if Bob had
  // already acked it (idempotence holds while queued): a client drops both by
  // the message id inside (R3), as this does by the position each body carries.
  const firstSightings = [...new Set(deduplicated(received))];
  expect(firstSightings).toEqual(range(0, 1_500));
  cluster.nodes = cluster.nodes.filter((n) => n !== a);
});
