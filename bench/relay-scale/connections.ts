import { loadavg } from 'node:os';
import type { TestPostgres } from '../../tests/support/postgres.ts';
import { startRelayProcess, useRelayStore } from '../../tests/support/relay-process.ts';
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
  /** Only with BENCH_SCALE_TRACE_GC=1. */
  readonly gc: GcPauses | undefined;
  /** Node RSS growth per connection, in KiB. */
  readonly kibPerConnection: number;
  readonly fileLimits: { readonly bench: number | undefined; readonly node: number | undefined };
  readonly failures: ReadonlyMap<string, number>;
}

/** GC pauses of the node during the measured phase (BENCH_SCALE_TRACE_GC=1 runs it with --trace-gc). */
export interface GcPauses {
  readonly count: number;
  readonly totalMs: number;
  readonly maxMs: number;
}

/** Pause times of the `--trace-gc` lines in `output` ("Scavenge 12.1 (13.0) -> 11.2 (14.0) MB, 1.23 / 0.00 ms"). */
function gcPauses(output: string): GcPauses {
  const pauses = [
    ...output.matchAll(/(?:Scavenge|Mark-Compact|Mark-sweep)[^\n]*?MB, ([\d.]+) \//g),
  ].map((match) => Number(match[1]));
  return {
    count: pauses.length,
    totalMs: pauses.reduce((sum, ms) => sum + ms, 0),
    maxMs: pauses.length > 0 ? Math.max(...pauses) : 0,
  };
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
  const traceGc = process.env['BENCH_SCALE_TRACE_GC'] === '1';
  const node = await startRelayProcess(tempDir(), {
    env: { SOTTO_RELAY_LOG: 'warn', ...(traceGc ? { NODE_OPTIONS: '--trace-gc' } : {}) },
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
    const traced = node.output().length;
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
      gc: traceGc ? gcPauses(node.output().slice(traced)) : undefined,
      kibPerConnection: opened.clients.length > 0 ? (after - before) / opened.clients.length : 0,
      fileLimits,
      failures: opened.failures,
    };
  } finally {
    await Promise.all([...clients, sender].map((client) => client.close()));
    await node.stop();
  }
}
