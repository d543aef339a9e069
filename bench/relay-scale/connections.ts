import { loadavg } from 'node:os';
import { fileURLToPath } from 'node:url';
import type { TestPostgres } from '../../tests/support/postgres.ts';
import {
  type RelayProcess,
  startRelayProcess,
  useRelayStore,
} from '../../tests/support/relay-process.ts';
import { percentile } from '../support/stats.ts';
import { tempDir } from '../support/temp.ts';
import { deliveryLatencies, openClients } from '../sync/connections.ts';
import { RawRelayClient } from '../sync/raw-client.ts';
import { openFileLimit, THROUGHPUT_ARGS } from '../sync/relay-child.ts';
import { cpuMs, raiseFileLimit, rssKiB } from './proc.ts';

// One relay node on PostgreSQL holding many authenticated connections (issue
// 14 §4): single-message delivery latency among them against the same node
// idle (two connections), the CPU the node and the load generator (this
// process: every client socket lives here, the node is its own process) used
// meanwhile, and the node's resident memory per connection. Both ends need a
// file descriptor per socket, so the harness raises the open-file limit of
// this process and of the node first.

/** Latency percentiles of one phase, in ms. */
export interface Percentiles {
  readonly p50: number;
  readonly p95: number;
  readonly p99: number;
  readonly samples: number;
}

/** CPU of the node and of the load generator during a measured phase. */
export interface PhaseCpu {
  readonly seconds: number;
  /** Share of one core, 0..1 (and more for a multi-threaded process). */
  readonly node: number;
  readonly generator: number;
  /** 1-minute load average of the machine when the phase ended. */
  readonly loadAverage: number;
}

/** What the connections benchmark measured. */
export interface HeldConnections {
  readonly attempted: number;
  readonly ready: number;
  readonly openSeconds: number;
  /** The same node with two connections, before the rest open. */
  readonly idle: Percentiles;
  readonly loaded: Percentiles;
  readonly cpu: PhaseCpu;
  /** Only with BENCH_SCALE_PROBE=1. */
  readonly probe: NodeProbe | undefined;
  /** Node RSS growth per connection, in KiB. */
  readonly kibPerConnection: number;
  readonly fileLimits: { readonly bench: number | undefined; readonly node: number | undefined };
  readonly failures: ReadonlyMap<string, number>;
}

/** What the node-probe preload saw inside the node during the measured phase (BENCH_SCALE_PROBE=1). */
export interface NodeProbe {
  /** Event-loop delay percentiles and maximum, ms (monitorEventLoopDelay at 10 ms resolution, less those 10 ms). */
  readonly loop: { readonly p50: number; readonly p99: number; readonly max: number };
  /** GC pauses: how many, ms in all, the longest, and how many were major (mark-compact). */
  readonly gc: {
    readonly count: number;
    readonly totalMs: number;
    readonly maxMs: number;
    readonly major: number;
  };
}

const PROBE = fileURLToPath(new URL('node-probe.mjs', import.meta.url));

/** Asks the node's probe for what it saw since the last ask (SIGUSR2) and waits for its line. */
async function readProbe(node: RelayProcess): Promise<NodeProbe> {
  const seen = node.output().length;
  process.kill(node.pid, 'SIGUSR2');
  const deadline = Date.now() + 30_000;
  for (;;) {
    const line = /^bench-probe (.*)$/m.exec(node.output().slice(seen));
    if (line?.[1] !== undefined) return JSON.parse(line[1]) as NodeProbe;
    if (Date.now() > deadline) throw new Error('the node probe did not answer');
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

/** Files each side is raised to: the sockets plus headroom for the node's database pool and logs. */
const FILE_LIMIT = 65_536;

function percentiles(latencies: readonly number[]): Percentiles {
  return {
    p50: percentile(latencies, 50),
    p95: percentile(latencies, 95),
    p99: percentile(latencies, 99),
    samples: latencies.length,
  };
}

/** Runs `phase`, returning its result and the CPU share the node and this process used meanwhile. */
async function withCpu<T>(nodePid: number, phase: () => Promise<T>): Promise<[T, PhaseCpu]> {
  const started = performance.now();
  const node = cpuMs(nodePid);
  const generator = cpuMs(process.pid);
  const result = await phase();
  const ms = performance.now() - started;
  return [
    result,
    {
      seconds: ms / 1000,
      node: (cpuMs(nodePid) - node) / ms,
      generator: (cpuMs(process.pid) - generator) / ms,
      loadAverage: loadavg()[0] ?? 0,
    },
  ];
}

/** Opens `connections` account connections to one node on a fresh database and measures it. */
export async function heldOnOneNode(
  postgres: TestPostgres,
  connections: number,
  trials: number,
): Promise<HeldConnections> {
  const database = await postgres.createDatabase();
  useRelayStore(() => Promise.resolve(['--database', database]));
  raiseFileLimit(process.pid, FILE_LIMIT);
  const probing = process.env['BENCH_SCALE_PROBE'] === '1';
  const node = await startRelayProcess(tempDir(), {
    env: { SOTTO_RELAY_LOG: 'warn', ...(probing ? { NODE_OPTIONS: `--import=${PROBE}` } : {}) },
    args: THROUGHPUT_ARGS,
  });
  raiseFileLimit(node.pid, FILE_LIMIT);
  const fileLimits = { bench: openFileLimit(), node: openFileLimit(node.pid) };
  let clients: RawRelayClient[] = [];
  const sender = await RawRelayClient.connect(node.url, 'anonymous');
  const plan = { connections, concurrency: 64, trials, warmup: 20, bodyBytes: 256 };
  try {
    const pair = await openClients(node.url, 2, 2);
    clients = pair.clients;
    const idle = percentiles(await deliveryLatencies(clients, sender, plan));
    const before = rssKiB(node.pid);
    const started = performance.now();
    const opened = await openClients(node.url, connections - clients.length, 64);
    const openSeconds = (performance.now() - started) / 1000;
    clients = [...clients, ...opened.clients];
    const after = rssKiB(node.pid);
    if (probing) await readProbe(node);
    const [latencies, cpu] = await withCpu(node.pid, () =>
      deliveryLatencies(clients, sender, plan),
    );
    return {
      attempted: connections,
      ready: clients.length,
      openSeconds,
      idle,
      loaded: percentiles(latencies),
      cpu,
      probe: probing ? await readProbe(node) : undefined,
      kibPerConnection: opened.clients.length > 0 ? (after - before) / opened.clients.length : 0,
      fileLimits,
      failures: opened.failures,
    };
  } finally {
    await Promise.all([...clients, sender].map((client) => client.close()));
    await node.stop();
  }
}
