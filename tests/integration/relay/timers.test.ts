import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createRelayServer, type RelayServer } from '../../../relay/server.ts';
import { SqliteRelayStorage } from '../../../relay/sqlite-storage.ts';
import { waitFor } from '../../support/blob-http.ts';
import { connectAs, newDevice, RelayTestClient, relayDataDir } from '../../support/relay-client.ts';

// Deadlines measured in seconds in production, shortened through the factory's
// options: the relay runs in-process here, the way the app factory allows.
describe('relay deadlines', () => {
  let storage: SqliteRelayStorage;
  let relay: RelayServer;
  let url: string;
  beforeAll(async () => {
    storage = SqliteRelayStorage.open(relayDataDir());
    relay = createRelayServer({ storage, heartbeatMs: 50, handshakeTimeoutMs: 300 });
    url = `ws://127.0.0.1:${await relay.listen(0)}/v2`;
  });
  afterAll(async () => {
    await relay.close();
    await storage.close();
  });

  it('a connection that does not reach ready in time is closed with 4002', async () => {
    const idle = await RelayTestClient.connect(url);
    expect((await idle.closed).code).toBe(4002);
  });

  it('a connection that stops answering WebSocket pings is dropped; one that answers stays', async () => {
    const { client: silent } = await connectAs(url, newDevice());
    const { client: alive } = await connectAs(url, newDevice());
    // Stop answering pings from now on (ws answers them automatically otherwise).
    silent.socket.pong = () => undefined;
    const closed = await silent.closed;
    expect(closed.code).toBe(1006); // terminated, no close handshake
    expect(await alive.request({ type: 'ping' })).toMatchObject({ type: 'pong' });
    await alive.close();
  });

  it('close() ends every connection with 1001', async () => {
    const local = createRelayServer({ storage });
    const port = await local.listen(0);
    const { client } = await connectAs(`ws://127.0.0.1:${port}/v2`, newDevice());
    await local.close();
    expect((await client.closed).code).toBe(1001);
  });
});

// A 1 s heartbeat is 20 slots of 50 ms on the relay's timer wheel: each tick
// pings only its slot, as a 30 s heartbeat does with 100 slots of 300 ms.
describe('relay heartbeats on the timer wheel', () => {
  const PERIOD_MS = 1_000;
  let storage: SqliteRelayStorage;
  let relay: RelayServer;
  let url: string;
  beforeAll(async () => {
    storage = SqliteRelayStorage.open(relayDataDir());
    relay = createRelayServer({ storage, heartbeatMs: PERIOD_MS });
    url = `ws://127.0.0.1:${await relay.listen(0)}/v2`;
  });
  afterAll(async () => {
    await relay.close();
    await storage.close();
  });

  it('every connection is pinged once a period, the pings spread over the period instead of one burst', async () => {
    const clients = await Promise.all(
      Array.from({ length: 40 }, async () => (await connectAs(url, newDevice())).client),
    );
    const pings = clients.map(() => [] as number[]);
    clients.forEach((client, i) => client.socket.on('ping', () => pings[i]!.push(Date.now())));
    await waitFor(() => pings.every((times) => times.length >= 2), 'two pings each', 60_000);
    const firsts = pings.map((times) => times[0]!);
    // One interval pinging every connection put all 40 within a few ms; the
    // wheel's slots are 50 ms apart, 2 connections each.
    expect(Math.max(...firsts) - Math.min(...firsts)).toBeGreaterThanOrEqual(PERIOD_MS / 2);
    // Still one ping per period each (a late tick on a busy machine does not make two).
    for (const times of pings)
      expect(times[1]! - times[0]!).toBeGreaterThanOrEqual(PERIOD_MS - 100);
    await Promise.all(clients.map((client) => client.close()));
  });

  it('a half-open client is still cut after two unanswered pings, no sooner; live ones stay', async () => {
    const { client: silent } = await connectAs(url, newDevice());
    const { client: alive } = await connectAs(url, newDevice());
    const silentSince = Date.now();
    silent.socket.pong = () => undefined;
    const closed = await silent.closed;
    const silentFor = Date.now() - silentSince;
    expect(closed.code).toBe(1006);
    // Its slot pinged it twice without a pong and cut it at the next visit: two periods at least.
    expect(silentFor).toBeGreaterThanOrEqual(2 * PERIOD_MS - 100);
    expect(await alive.request({ type: 'ping' })).toMatchObject({ type: 'pong' });
    await alive.close();
  });
});
