import { connect, type Socket } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createRelayServer, type RelayServer } from '../../../relay/server.ts';
import { SqliteRelayStorage } from '../../../relay/sqlite-storage.ts';
import { connectAnonymous, RelayTestClient, relayDataDir } from '../../support/relay-client.ts';

// Sockets that never become useful connections: the per-address cap, the
// upgrade deadline, and the client address behind a trusted local proxy. The
// relay runs in-process (on port 0, real sockets) so its options can be set.

/** Opens a raw TCP socket and resolves once connected. */
function rawSocket(port: number): Promise<Socket> {
  return new Promise((resolve, reject) => {
    const socket = connect(port, '127.0.0.1', () => resolve(socket));
    socket.once('error', reject);
  });
}

/** Resolves with the ms until the peer closed the socket. */
function closedAfter(socket: Socket): Promise<number> {
  const start = performance.now();
  return new Promise((resolve) => {
    socket.on('error', () => undefined);
    socket.once('close', () => resolve(performance.now() - start));
  });
}

async function relayWith(options: Omit<Parameters<typeof createRelayServer>[0], 'storage'>) {
  const storage = SqliteRelayStorage.open(relayDataDir());
  const relay = createRelayServer({ storage, ...options });
  const port = await relay.listen(0);
  return { relay, storage, port, url: `ws://127.0.0.1:${port}/v2` };
}

describe('per-address connection cap and upgrade deadline', () => {
  let relay: RelayServer;
  let storage: SqliteRelayStorage;
  let port: number;
  let url: string;
  beforeAll(async () => {
    ({ relay, storage, port, url } = await relayWith({ maxConnectionsPerAddress: 10, upgradeTimeoutMs: 500 }));
  });
  afterAll(async () => {
    await relay.close();
    await storage.close();
  });

  it('sockets beyond the cap are closed at once, whatever stage the others are in; a freed slot is usable again', async () => {
    const idle = await Promise.all(Array.from({ length: 6 }, () => rawSocket(port)));
    const ready = await Promise.all(Array.from({ length: 4 }, () => connectAnonymous(url)));
    const extra = await rawSocket(port);
    expect(await closedAfter(extra)).toBeLessThan(400); // before the 500 ms upgrade deadline
    await expect(RelayTestClient.connect(url)).rejects.toThrow();
    await ready[0]!.close();
    // The relay notices the close asynchronously: retry until the slot is free.
    let client: RelayTestClient | undefined;
    for (let attempt = 0; attempt < 50 && client === undefined; attempt++) {
      client = await RelayTestClient.connect(url).catch(() => undefined);
      if (client === undefined) await new Promise((resolve) => setTimeout(resolve, 50));
    }
    expect(client).toBeDefined();
    for (const socket of idle) socket.destroy();
    await Promise.all([client?.close(), ...ready.slice(1).map((r) => r.close())]);
  });

  it('a socket that sends its headers slowly is cut at the upgrade deadline, not minutes later', async () => {
    const slow = await rawSocket(port);
    const closed = closedAfter(slow);
    slow.write('GET /v2 HTTP/1.1\r\nHost: relay\r\n');
    // One header byte every 50 ms, forever (the review held such sockets 65-95 s).
    const drip = setInterval(() => slow.writable && slow.write('X'), 50);
    const ms = await closed;
    clearInterval(drip);
    expect(ms).toBeGreaterThanOrEqual(400);
    expect(ms).toBeLessThan(5_000);
  });
});

describe('behind a reverse proxy (--trust-proxy)', () => {
  it('with trustProxy, a loopback peer is counted by its X-Forwarded-For address (the rightmost entry)', async () => {
    const local = await relayWith({ maxConnectionsPerAddress: 2, trustProxy: true });
    const via = (address: string) => ({ headers: { 'x-forwarded-for': `198.51.100.9, ${address}` } });
    const first = await Promise.all([connectAnonymous(local.url, via('203.0.113.5')), connectAnonymous(local.url, via('203.0.113.5'))]);
    await expect(RelayTestClient.connect(local.url, via('203.0.113.5'))).rejects.toThrow(/429/);
    // Another client behind the same proxy is not affected; the spoofable left entry is ignored.
    const other = await connectAnonymous(local.url, via('203.0.113.6'));
    await Promise.all([...first, other].map((client) => client.close()));
    await local.relay.close();
    await local.storage.close();
  });

  it('without trustProxy, X-Forwarded-For is ignored: the peer address is what counts', async () => {
    const local = await relayWith({ maxConnectionsPerAddress: 2 });
    const spoof = (n: number) => ({ headers: { 'x-forwarded-for': `203.0.113.${n}` } });
    const first = await Promise.all([connectAnonymous(local.url, spoof(1)), connectAnonymous(local.url, spoof(2))]);
    await expect(RelayTestClient.connect(local.url, spoof(3))).rejects.toThrow();
    await Promise.all(first.map((client) => client.close()));
    await local.relay.close();
    await local.storage.close();
  });
});
