import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createRelayServer, type RelayServer } from '../../../relay/server.ts';
import { SqliteRelayStorage } from '../../../relay/sqlite-storage.ts';
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
