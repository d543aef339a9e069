import { readFileSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { waitFor } from '../../../support/blob-http.ts';
import { selfSigned } from '../../../support/certificates.ts';
import { startTestPostgres, type TestPostgres } from '../../../support/postgres.ts';
import { registeredDevice, relayDataDir } from '../../../support/relay-client.ts';
import {
  opsPortOf,
  type RelayProcess,
  startRelayProcess,
  useRelayStore,
} from '../../../support/relay-process.ts';
import { startTlsProxy, type TlsProxy } from '../../../support/tls-proxy.ts';
import { deduplicated, receiveStream, sendStream, STREAM_ARGS } from '../cluster.ts';

// The deploy/ topology with processes (Docker cannot run here): PostgreSQL,
// two relay nodes as built JavaScript (bin/sotto-relay.js, --trust-proxy,
// ops port, drain on SIGTERM), a TLS-terminating proxy in front (a small Node
// proxy standing in for Caddy: tests/support/tls-proxy.ts), clients that know
// only the proxy's wss:// address and trust its certificate.

const STREAM = 2_000;
const range = (n: number) => Array.from({ length: n }, (_, i) => i);

/** Waits (on progress, 60 s budget) until the proxy routed a connection after the first `count`. */
async function routedSince(count: number): Promise<void> {
  await waitFor(() => proxy.routes.length > count, 'the proxy to route a connection', 60_000);
}

let postgres: TestPostgres;
let nodes: RelayProcess[] = [];
let proxy: TlsProxy;
let trust: { ca: Buffer };
beforeAll(async () => {
  postgres = await startTestPostgres({ durable: true });
  const database = await postgres.createDatabase();
  useRelayStore(() => Promise.resolve(['--database', database]));
  const dir = relayDataDir();
  const certificate = selfSigned(dir, 'proxy');
  trust = { ca: certificate.pem };
  nodes = await Promise.all(
    [0, 1].map(() =>
      startRelayProcess(relayDataDir(), {
        args: [
          ...STREAM_ARGS,
          '--trust-proxy',
          '--ops-port',
          '0',
          '--drain-seconds',
          '2',
          // The proxy's clients all come from 127.0.0.1 (as in deploy/compose.yaml).
          '--max-connections-per-address',
          '100000',
        ],
      }),
    ),
  );
  proxy = await startTlsProxy({
    cert: readFileSync(certificate.cert),
    key: readFileSync(certificate.key),
    backends: nodes.map((node) => ({ port: node.port, opsPort: opsPortOf(node) })),
    healthIntervalMs: 200,
  });
  expect(proxy.healthy()).toEqual([true, true]);
});
afterAll(async () => {
  await proxy?.close();
  for (const node of nodes) await node.stop();
  await postgres?.stop();
});

describe('two relay nodes over one PostgreSQL behind a TLS-terminating proxy', () => {
  it('a sender and a recipient routed to different nodes: 2,000 messages over wss://, once each, in order', async () => {
    const bob = await registeredDevice(proxy.url, undefined, trust);
    await bob.client.close();
    const routed = proxy.routes.length;
    const receiving = receiveStream(
      () => [proxy.url],
      bob.device,
      STREAM,
      undefined,
      undefined,
      trust,
    );
    await routedSince(routed);
    await sendStream(() => [proxy.url], bob.device, bob.token, 0, STREAM, trust);
    const received = await receiving;
    expect(received.positions).toEqual(range(STREAM));
    expect(received.connections).toBe(1);
    // least_conn put the recipient and the sender on different nodes: delivery crossed nodes.
    const [recipientNode, senderNode] = proxy.routes.slice(routed);
    expect(new Set([recipientNode, senderNode]).size).toBe(2);
  });

  it("SIGTERM of the recipient's node mid-stream: told to reconnect, back through the proxy on the other node, nothing lost or duplicated", async () => {
    const bob = await registeredDevice(proxy.url, undefined, trust);
    await bob.client.close();
    let draining: RelayProcess | undefined;
    let exited: Promise<number | null> | undefined;
    const closeCodes: number[] = [];
    const routed = proxy.routes.length;
    const receiving = receiveStream(
      () => [proxy.url],
      bob.device,
      STREAM,
      undefined,
      (seen) => {
        if (draining === undefined && seen.ids.length >= 500) {
          // SIGTERM to the node the proxy sent bob's connection to.
          draining = nodes[proxy.routes[routed]!]!;
          exited = draining.stop();
        }
      },
      trust,
      (code) => closeCodes.push(code),
    );
    // bob's connection is routed first, the sender's after it.
    await routedSince(routed);
    await sendStream(() => [proxy.url], bob.device, bob.token, 0, STREAM / 2, trust);
    // The second half only once the drain closed bob's first connection: on an idle machine the
    // whole stream could otherwise arrive on it before the drain, and no reconnect would happen.
    await waitFor(() => closeCodes.includes(1001), 'the drain to close the connection', 60_000);
    await sendStream(() => [proxy.url], bob.device, bob.token, STREAM / 2, STREAM, trust);
    const received = await receiving;
    expect(draining).toBeDefined();
    // The drained node exited cleanly, having told its clients to go elsewhere (1001).
    expect(await exited).toBe(0);
    expect(closeCodes).toContain(1001);
    expect(received.connections).toBe(2);
    expect(deduplicated(received)).toEqual(range(STREAM));
    // Acked before the close, so nothing was pushed twice.
    expect(received.positions).toEqual(range(STREAM));
    // The proxy took the draining node out of rotation: the reconnect went to the survivor.
    const survivor = nodes.indexOf(draining!) === 0 ? 1 : 0;
    expect(proxy.routes[proxy.routes.length - 1]).toBe(survivor);
    expect(proxy.healthy()[nodes.indexOf(draining!)]).toBe(false);
    nodes = nodes.filter((node) => node !== draining);
  });
});
