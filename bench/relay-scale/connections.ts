import type { TestPostgres } from '../../tests/support/postgres.ts';
import { startRelayProcess, useRelayStore } from '../../tests/support/relay-process.ts';
import { percentile } from '../support/stats.ts';
import { tempDir } from '../support/temp.ts';
import { deliveryLatencies, openClients } from '../sync/connections.ts';
import { RawRelayClient } from '../sync/raw-client.ts';
import { openFileLimit, THROUGHPUT_ARGS } from '../sync/relay-child.ts';
import { raiseFileLimit, rssKiB } from './proc.ts';

// One relay node on PostgreSQL holding many authenticated connections (issue
// 14 §4): single-message delivery latency among them, and the node's resident
// memory per connection. Both ends need a file descriptor per socket, so the
// harness raises the open-file limit of this process and of the node first.

/** What the connections benchmark measured. */
export interface HeldConnections {
  readonly attempted: number;
  readonly ready: number;
  readonly openSeconds: number;
  readonly p50: number;
  readonly p99: number;
  /** Node RSS growth per connection, in KiB. */
  readonly kibPerConnection: number;
  readonly fileLimits: { readonly bench: number | undefined; readonly node: number | undefined };
  readonly failures: ReadonlyMap<string, number>;
}

/** Files each side is raised to: the sockets plus headroom for the node's database pool and logs. */
const FILE_LIMIT = 65_536;

/** Opens `connections` account connections to one node on a fresh database and measures it. */
export async function heldOnOneNode(
  postgres: TestPostgres,
  connections: number,
  trials: number,
): Promise<HeldConnections> {
  const database = await postgres.createDatabase();
  useRelayStore(() => Promise.resolve(['--database', database]));
  raiseFileLimit(process.pid, FILE_LIMIT);
  const node = await startRelayProcess(tempDir(), {
    env: { SOTTO_RELAY_LOG: 'warn' },
    args: THROUGHPUT_ARGS,
  });
  raiseFileLimit(node.pid, FILE_LIMIT);
  const fileLimits = { bench: openFileLimit(), node: openFileLimit(node.pid) };
  let clients: RawRelayClient[] = [];
  const sender = await RawRelayClient.connect(node.url, 'anonymous');
  try {
    const before = rssKiB(node.pid);
    const started = performance.now();
    const opened = await openClients(node.url, connections, 64);
    const openSeconds = (performance.now() - started) / 1000;
    clients = opened.clients;
    const after = rssKiB(node.pid);
    const latencies = await deliveryLatencies(clients, sender, {
      connections,
      concurrency: 64,
      trials,
      warmup: 20,
      bodyBytes: 256,
    });
    return {
      attempted: connections,
      ready: clients.length,
      openSeconds,
      p50: percentile(latencies, 50),
      p99: percentile(latencies, 99),
      kibPerConnection: clients.length > 0 ? (after - before) / clients.length : 0,
      fileLimits,
      failures: opened.failures,
    };
  } finally {
    await Promise.all([...clients, sender].map((client) => client.close()));
    await node.stop();
  }
}
