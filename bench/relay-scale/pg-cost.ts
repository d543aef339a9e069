import { randomBytes } from 'node:crypto';
import { performance } from 'node:perf_hooks';
import pg from 'pg';
import { toBase64 } from '../../shared/protocol/encoding.ts';
import { startTestPostgres } from '../../tests/support/postgres.ts';
import { startRelayProcess, useRelayStore } from '../../tests/support/relay-process.ts';
import type { Metric } from '../support/report.ts';
import { tempDir } from '../support/temp.ts';
import { RawRelayClient } from '../sync/raw-client.ts';
import { THROUGHPUT_ARGS } from '../sync/relay-child.ts';
import { childCpuByKind, cpuMs, treeCpuMs } from './proc.ts';

// What one message costs PostgreSQL (issue 14 §4: its CPU per message is the
// scale-out ceiling): one relay node, an open-loop load like a scale-out step
// (anonymous sealed sends, recipients acking every push), and PostgreSQL's
// own accounting read around it: pg_stat_statements (loaded for this server
// only, never a product default), transactions and sessions (backend starts)
// from pg_stat_database, and the CPU time of the postmaster and its backends.

const SECTION = 'relay-pgcost';

const NODES = Number(process.env['BENCH_PGCOST_NODES'] ?? 1);
if (![1, 2, 4].includes(NODES)) throw new Error('BENCH_PGCOST_NODES: 1, 2 or 4');

/**
 * Shape of the run (BENCH_PGCOST_MESSAGES, BENCH_PGCOST_RATE (all nodes together),
 * BENCH_PGCOST_NODES; BENCH_PGCOST_TRACK below). NODES=2: senders on node A,
 * recipients on node B, so every envelope crosses nodes (NOTIFY, and the
 * LISTEN backend's reads). NODES=4: the scale-out shape, 320/s per node by
 * default: 4 senders and about 12 recipients on each node, each node storing
 * and acking its quarter, three quarters of the envelopes crossing nodes.
 */
const PLAN = {
  nodes: NODES,
  messages: Number(process.env['BENCH_PGCOST_MESSAGES'] ?? (NODES === 4 ? 12_000 : 3_000)),
  rate: Number(process.env['BENCH_PGCOST_RATE'] ?? (NODES === 4 ? 1_280 : 150)),
  // Not a multiple of 4: with NODES=4, sender i % 4 and recipient i % 50 sit on all pairs of nodes.
  recipients: 50,
  senders: NODES === 4 ? 16 : 4,
  bodyBytes: 256,
  warmup: 200,
} as const;

/** How long an idle backend may keep its statistics before PostgreSQL 15 flushes them. */
const STATS_FLUSH_MS = 12_000;
const DRAIN_BUDGET_MS = 120_000;
/** Marks this harness's own statements, which are left out of the figures. */
const MARK = '/* pgcost */';

const statementRowSchema = (raw: Record<string, unknown>) => ({
  query: String(raw['query']),
  calls: Number(raw['calls']),
  totalMs: Number(raw['total_exec_time']),
  rows: Number(raw['rows']),
});

/** One statement's share of the run, per delivered message. */
export interface StatementCost {
  readonly query: string;
  readonly callsPerMsg: number;
  readonly meanMs: number;
  readonly totalMsPerMsg: number;
  readonly rowsPerMsg: number;
}

/** Commits and backend starts of the database, WAL of the server, updates and HOT updates of the counter tables. */
async function databaseCounters(db: pg.Client) {
  const { rows } = await db.query(
    `${MARK} SELECT d.xact_commit, d.sessions, w.wal_records, w.wal_bytes, w.wal_sync,
            (SELECT sum(n_tup_upd) FROM pg_stat_user_tables WHERE relname IN ('mailbox', 'relay_usage')) AS upd,
            (SELECT sum(n_tup_hot_upd) FROM pg_stat_user_tables WHERE relname IN ('mailbox', 'relay_usage')) AS hot
       FROM pg_stat_database d, pg_stat_wal w WHERE d.datname = current_database()`,
  );
  const row = rows[0] as Record<string, unknown>;
  return {
    commits: Number(row['xact_commit']),
    sessions: Number(row['sessions']),
    walRecords: Number(row['wal_records']),
    walBytes: Number(row['wal_bytes']),
    walSyncs: Number(row['wal_sync']),
    counterUpdates: Number(row['upd']),
    hotUpdates: Number(row['hot']),
  };
}

async function listenerPids(db: pg.Client): Promise<number[]> {
  const { rows } = await db.query(
    `${MARK} SELECT pid FROM pg_stat_activity WHERE query LIKE 'LISTEN %' AND pid <> pg_backend_pid()`,
  );
  return rows.map((row) => Number((row as { pid: unknown }).pid));
}

async function until(check: () => Promise<boolean>, what: string): Promise<void> {
  const deadline = performance.now() + DRAIN_BUDGET_MS;
  while (!(await check())) {
    if (performance.now() > deadline) throw new Error(`pg-cost: ${what} did not happen`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

/**
 * Sends `count` envelopes at `rate`/s (open loop) from the senders to the
 * recipients, round-robin; answers each send's latency (sent to the relay's
 * answer, ms), sorted.
 */
async function offer(
  senders: readonly RawRelayClient[],
  recipients: readonly RawRelayClient[],
  count: number,
  rate: number,
): Promise<number[]> {
  const body = toBase64(randomBytes(PLAN.bodyBytes));
  const started = performance.now();
  const sends: Promise<void>[] = [];
  const latencies: number[] = [];
  let next = 0;
  // BENCH_PGCOST_SPREAD=1: each send at its own random time (exponential gaps,
  // arrivals at random like many independent clients); else in 5 ms bursts.
  const spread = process.env['BENCH_PGCOST_SPREAD'] === '1';
  let due = 0;
  while (next < count) {
    if (spread) due += (-Math.log(1 - Math.random()) * 1000) / rate;
    const owed = spread
      ? next + 1
      : Math.min(count, Math.floor((rate * (performance.now() - started)) / 1000));
    for (; next < owed; next++) {
      const to = recipients[next % recipients.length]!;
      const sentAt = performance.now();
      sends.push(
        senders[next % senders.length]!.send(to.accountId, to.token, body).then(() => {
          latencies.push(performance.now() - sentAt);
        }),
      );
    }
    const wait = spread ? started + due - performance.now() : 5;
    if (wait > 0) await new Promise((resolve) => setTimeout(resolve, wait));
  }
  await Promise.all(sends);
  return latencies.sort((a, b) => a - b);
}

/** Runs the load and returns PostgreSQL's figures per delivered message. */
export async function relayPgCostSection(): Promise<Metric[]> {
  const postgres = await startTestPostgres({
    durable: true,
    settings: {
      shared_preload_libraries: 'pg_stat_statements',
      'pg_stat_statements.max': '1000',
      // BENCH_PGCOST_TRACK=all also lists the statements inside the relay's functions.
      'pg_stat_statements.track': process.env['BENCH_PGCOST_TRACK'] ?? 'top',
      // BENCH_PGCOST_COMMIT_DELAY=µs: PostgreSQL's own group commit (commit_delay, with
      // commit_siblings from BENCH_PGCOST_COMMIT_SIBLINGS, default 5 as PostgreSQL's).
      commit_delay: process.env['BENCH_PGCOST_COMMIT_DELAY'] ?? '0',
      commit_siblings: process.env['BENCH_PGCOST_COMMIT_SIBLINGS'] ?? '5',
    },
  });
  const database = await postgres.createDatabase();
  const db = new pg.Client({ connectionString: database });
  await db.connect();
  useRelayStore(() => Promise.resolve(['--database', database]));
  const nodes = await Promise.all(
    Array.from({ length: PLAN.nodes }, () =>
      startRelayProcess(tempDir(), { env: { SOTTO_RELAY_LOG: 'warn' }, args: THROUGHPUT_ARGS }),
    ),
  );
  // Client i connects to node i % the list's length.
  const senderNodes = PLAN.nodes === 2 ? nodes.slice(0, 1) : nodes;
  const recipientNodes = PLAN.nodes === 2 ? nodes.slice(1) : nodes;
  try {
    await db.query(`${MARK} CREATE EXTENSION IF NOT EXISTS pg_stat_statements`);
    const recipients = await Promise.all(
      Array.from({ length: PLAN.recipients }, (_, i) =>
        RawRelayClient.connect(recipientNodes[i % recipientNodes.length]!.url),
      ),
    );
    const senders = await Promise.all(
      Array.from({ length: PLAN.senders }, (_, i) =>
        RawRelayClient.connect(senderNodes[i % senderNodes.length]!.url, 'anonymous'),
      ),
    );
    let delivered = 0;
    // This harness's own autocommit reads, taken off the commit count.
    let ownQueries = 0;
    for (const recipient of recipients) recipient.onEnvelope = () => (delivered += 1);
    const queuedNone = async () => {
      ownQueries += 1;
      const { rows } = await db.query(`${MARK} SELECT count(*)::int AS n FROM envelope`);
      return (rows[0] as { n: number }).n === 0;
    };
    // Warm-up: the pool's backends exist and have planned every statement once.
    await offer(senders, recipients, PLAN.warmup, PLAN.rate);
    await until(async () => delivered >= PLAN.warmup && (await queuedNone()), 'warm-up drain');
    await new Promise((resolve) => setTimeout(resolve, STATS_FLUSH_MS));
    await db.query(`${MARK} SELECT pg_stat_statements_reset()`);
    const before = await databaseCounters(db);
    ownQueries = 0;
    const cpuBefore = treeCpuMs(postgres.postmasterPid());
    const systemBefore = treeCpuMs(postgres.postmasterPid(), true);
    const kindsBefore = childCpuByKind(postgres.postmasterPid());
    // The nodes' LISTEN backends: reading the notification queue is their CPU.
    const listeners = await listenerPids(db);
    const listenBefore = listeners.reduce((sum, pid) => sum + cpuMs(pid), 0);
    const started = performance.now();
    delivered = 0;
    const latencies = await offer(senders, recipients, PLAN.messages, PLAN.rate);
    const percentile = (p: number) => latencies[Math.floor((latencies.length - 1) * p)] ?? 0;
    await until(async () => delivered >= PLAN.messages && (await queuedNone()), 'drain');
    const pgMs = treeCpuMs(postgres.postmasterPid()) - cpuBefore;
    const listenMs = listeners.reduce((sum, pid) => sum + cpuMs(pid), 0) - listenBefore;
    const systemMs = treeCpuMs(postgres.postmasterPid(), true) - systemBefore;
    const kinds = [...childCpuByKind(postgres.postmasterPid())].map(
      ([kind, ms]) => `${kind} ${((ms - (kindsBefore.get(kind) ?? 0)) / PLAN.messages).toFixed(3)}`,
    );
    const seconds = (performance.now() - started) / 1000;
    await Promise.all([...recipients, ...senders].map((c) => c.close()));
    // Idle backends flush their counters within this time (PostgreSQL 15).
    await new Promise((resolve) => setTimeout(resolve, STATS_FLUSH_MS));
    const after = await databaseCounters(db);
    const { rows } = await db.query(
      `${MARK} SELECT query, calls, total_exec_time, rows FROM pg_stat_statements
        WHERE dbid = (SELECT oid FROM pg_database WHERE datname = current_database())
        ORDER BY total_exec_time DESC`,
    );
    const n = PLAN.messages;
    const statements = rows
      .map((raw) => statementRowSchema(raw as Record<string, unknown>))
      .filter((s) => !s.query.includes(MARK))
      .map((s): StatementCost => ({
        query: s.query.replace(/\s+/g, ' ').slice(0, 110),
        callsPerMsg: s.calls / n,
        meanMs: s.calls > 0 ? s.totalMs / s.calls : 0,
        totalMsPerMsg: s.totalMs / n,
        rowsPerMsg: s.rows / n,
      }));
    console.log(
      `\n[relay-pgcost] ${n} envelopes at ${PLAN.rate}/s, ${['one node', 'node A to node B', '', 'four nodes'][PLAN.nodes - 1]}, ${seconds.toFixed(1)} s; per message:`,
    );
    console.log(`  PostgreSQL CPU-ms per message by process: ${kinds.join(', ')}`);
    console.log('  calls/msg  mean ms  exec ms/msg  rows/msg  statement');
    for (const s of statements)
      console.log(
        `  ${s.callsPerMsg.toFixed(3).padStart(9)}  ${s.meanMs.toFixed(3).padStart(7)}  ${s.totalMsPerMsg.toFixed(3).padStart(11)}  ${s.rowsPerMsg.toFixed(3).padStart(8)}  ${s.query}`,
      );
    const calls = statements.reduce((sum, s) => sum + s.callsPerMsg, 0);
    // Stores of one turn share a call: how bunched the arrivals came decides the cost (docs).
    const storeCalls = statements
      .filter((s) => /relay_(store_batch|store_checked|store_sequenced|ack_store)\(/.test(s.query))
      .reduce((sum, s) => sum + s.callsPerMsg, 0);
    const ackCalls = statements
      .filter((s) => /relay_(ack|ack_batch|ack_store)\(/.test(s.query))
      .reduce((sum, s) => sum + s.callsPerMsg, 0);
    const pushReads = statements
      .filter((s) => s.query.includes('WITH ORDINALITY'))
      .reduce((sum, s) => sum + s.callsPerMsg, 0);
    const notifies = statements
      .filter((s) => s.query.includes('pg_notify'))
      .reduce((sum, s) => sum + s.callsPerMsg, 0);
    const metric = (name: string, value: number, unit: string): Metric => ({
      section: SECTION,
      name,
      value,
      unit,
    });
    return [
      metric('PostgreSQL CPU per delivered message (CPU-ms)', pgMs / n, 'ms'),
      metric('of which in the kernel (sockets, WAL writes, fsyncs)', systemMs / n, 'ms'),
      metric('PostgreSQL share of a core during the load', (100 * pgMs) / (seconds * 1000), '%'),
      metric('statements per message (top level)', calls, 'statements'),
      metric(
        'statement execution time per message',
        statements.reduce((sum, s) => sum + s.totalMsPerMsg, 0),
        'ms',
      ),
      metric(
        'commits per message',
        (after.commits - before.commits - ownQueries - 1) / n,
        'commits',
      ),
      metric('NOTIFYs per message', notifies, 'NOTIFYs'),
      metric('calls that ack (alone or riding in a store) per message', ackCalls, 'calls'),
      metric('push reads per message', pushReads, 'calls'),
      metric('WAL records per message', (after.walRecords - before.walRecords) / n, 'records'),
      metric('WAL bytes per message', (after.walBytes - before.walBytes) / n, 'bytes'),
      metric('WAL syncs (fsyncs) per message', (after.walSyncs - before.walSyncs) / n, 'fsyncs'),
      metric(
        'HOT share of the mailbox and relay_usage updates',
        (100 * (after.hotUpdates - before.hotUpdates)) /
          Math.max(1, after.counterUpdates - before.counterUpdates),
        '%',
      ),
      metric('of the CPU: the LISTEN backends (notification queue reads)', listenMs / n, 'ms'),
      metric('envelopes per store call', storeCalls > 0 ? 1 / storeCalls : 0, 'envelopes'),
      metric(
        'delivered rate (the generator may fall behind the offered one)',
        n / seconds,
        'msg/s',
      ),
      metric('backend starts during the load', after.sessions - before.sessions, 'sessions'),
      metric('submit latency p50 (send to the relay’s answer)', percentile(0.5), 'ms'),
      metric('submit latency p99', percentile(0.99), 'ms'),
    ];
  } finally {
    await Promise.all(nodes.map((node) => node.stop()));
    await db.end();
    await postgres.stop();
  }
}
