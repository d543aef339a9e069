import { randomBytes } from 'node:crypto';
import { performance } from 'node:perf_hooks';
import { availableParallelism } from 'node:os';
import type { TestPostgres } from '../../tests/support/postgres.ts';
import {
  type RelayProcess,
  startRelayProcess,
  useRelayStore,
} from '../../tests/support/relay-process.ts';
import { percentile } from '../support/stats.ts';
import { tempDir } from '../support/temp.ts';
import { RawRelayClient } from '../sync/raw-client.ts';
import { THROUGHPUT_ARGS } from '../sync/relay-child.ts';
import { cpuMs, cpuQuota, type CpuQuota, treeCpuMs } from './proc.ts';

// Scale-out (issue 14 §4): N relay nodes over one PostgreSQL, each under the
// same CPU quota, recipients spread round-robin over the nodes and senders
// aimed at recipients on another node, so (N-1)/N of deliveries cross nodes.
// Open loop: a fixed offered rate per step, raised by √2 until p99 > 200 ms
// (twice at the same rate: a single stall on a shared machine is not the
// ceiling); then the gap between the last step that qualified and the first that did
// not is halved `refineSteps` times, so the ceiling is placed to a few per
// cent instead of the grid's 41% (which alone decides a 3.2× verdict).

/** Shape of one scale-out run. */
export interface ScalePlan {
  readonly nodes: readonly number[];
  /** Share of one core each node may use. */
  readonly nodeShare: number;
  readonly recipients: number;
  /** Anonymous sender connections per node. */
  readonly sendersPerNode: number;
  readonly bodyBytes: number;
  /** Offered rates (envelopes/s), tried in order until p99 passes the limit. */
  readonly rates: readonly number[];
  readonly warmupSeconds: number;
  readonly stepSeconds: number;
  readonly p99LimitMs: number;
  /** Halvings of the gap around the ceiling after the grid (0: the grid alone). */
  readonly refineSteps: number;
  /** The nodes' `--store-gather-ms` (relay/postgres/gathering.ts). */
  readonly gatherMs: number;
}

/** Issue 14 §4: beyond one node, scale-out counts only while PostgreSQL stays under 70% of one core. */
export const PG_CORES_LIMIT = 0.7;

/** One offered-load step. */
export interface ScaleStep {
  readonly offered: number;
  readonly delivered: number;
  readonly p50: number;
  readonly p99: number;
  readonly refused: number;
  /** CPU milliseconds per delivered envelope: all nodes together, PostgreSQL (postmaster + backends), the load generator. */
  readonly nodeCpuMsPerMsg: number;
  readonly pgCpuMsPerMsg: number;
  readonly generatorCpuMsPerMsg: number;
  /** Share of one core PostgreSQL used during the step. */
  readonly pgCores: number;
}

/** A run of one N: every step tried, and the quota it ran under. */
export interface ScaleRun {
  readonly nodes: number;
  readonly quota: CpuQuota['kind'] | 'none (not writable here)';
  readonly steps: readonly ScaleStep[];
}

const TICK_MS = 5;
/** Longest wait for an overloaded step's backlog before a refining step. */
const SETTLE_MS = 60_000;
/** Time after a step's last send that late deliveries still count (then they are lost for p99). */
const DRAIN_MS = 2_000;

/** Runs every N of the plan on fresh databases of `postgres`. */
export async function scaleOut(postgres: TestPostgres, plan: ScalePlan): Promise<ScaleRun[]> {
  const runs: ScaleRun[] = [];
  for (const count of plan.nodes) {
    const database = await postgres.createDatabase();
    useRelayStore(() => Promise.resolve(['--database', database]));
    const quotas: CpuQuota[] = [];
    const nodes = await Promise.all(
      Array.from({ length: count }, () =>
        startRelayProcess(tempDir(), {
          env: { SOTTO_RELAY_LOG: 'warn' },
          args: [...THROUGHPUT_ARGS, '--store-gather-ms', String(plan.gatherMs)],
        }),
      ),
    );
    try {
      for (const [i, node] of nodes.entries()) {
        const quota = cpuQuota(`sotto-bench-node${i}`, plan.nodeShare);
        if (quota === undefined) continue;
        quota.add(node.pid);
        quotas.push(quota);
      }
      const steps = await stepLoad(nodes, postgres.postmasterPid(), plan);
      runs.push({
        nodes: count,
        quota: quotas.length === count ? quotas[0]!.kind : 'none (not writable here)',
        steps,
      });
    } finally {
      for (const node of nodes) await node.stop();
      quotas.forEach((quota) => quota.remove());
    }
  }
  return runs;
}

async function stepLoad(
  nodes: readonly RelayProcess[],
  postmaster: number,
  plan: ScalePlan,
): Promise<ScaleStep[]> {
  const recipients = await Promise.all(
    Array.from({ length: plan.recipients }, (_, i) =>
      RawRelayClient.connect(nodes[i % nodes.length]!.url),
    ),
  );
  const senders = await Promise.all(
    Array.from({ length: plan.sendersPerNode * nodes.length }, (_, i) =>
      RawRelayClient.connect(nodes[i % nodes.length]!.url, 'anonymous'),
    ),
  );
  // Sender k (on node k mod N) writes to recipients on node k+1 mod N.
  const targets = senders.map((_, k) =>
    recipients.filter((_, i) => i % nodes.length === (k + 1) % nodes.length),
  );
  const sentAt = new Map<number, number>();
  const latencies = new Map<number, number>();
  let received = 0;
  for (const recipient of recipients)
    recipient.onEnvelope = (envelope, at) => {
      received += 1;
      const index = Buffer.from(envelope.body, 'base64').readUInt32BE(0);
      const sent = sentAt.get(index);
      if (sent !== undefined && !latencies.has(index)) latencies.set(index, at - sent);
    };
  const body = randomBytes(plan.bodyBytes);
  let next = 0;
  let refused = 0;
  let refusedInAll = 0;
  const steps: ScaleStep[] = [];
  const qualifies = (step: ScaleStep) => qualifying(step, nodes.length, plan);
  // A step that overloaded the nodes leaves a backlog; the next step waits
  // for it (or a minute), else it would start behind and fail for that.
  const settle = async () => {
    const deadline = performance.now() + SETTLE_MS;
    while (received + refusedInAll < next && performance.now() < deadline)
      await new Promise((resolve) => setTimeout(resolve, 50));
  };
  const measure = async (rate: number): Promise<ScaleStep> => {
    // Open loop: every tick sends what the rate owes so far, answered or not.
    const run = async (seconds: number) => {
      const first = next;
      const started = performance.now();
      // Owed by the clock, not by ticks: a busy machine wakes timers late, and
      // counting ticks would quietly lower the offered rate.
      while (performance.now() - started < seconds * 1000) {
        const owed = Math.floor((rate * (performance.now() - started)) / 1000) - (next - first);
        for (let i = 0; i < owed; i++) {
          const index = next++;
          const k = index % senders.length;
          const to = targets[k]![Math.floor(index / senders.length) % targets[k]!.length]!;
          body.writeUInt32BE(index, 0);
          sentAt.set(index, performance.now());
          const refuse = () => {
            refused += 1;
            refusedInAll += 1;
          };
          void senders[k]!.trySend(to.accountId, to.token, body.toString('base64')).then(
            (outcome) => outcome !== 'ok' && refuse(),
            refuse,
          );
        }
        await new Promise((resolve) => setTimeout(resolve, TICK_MS));
      }
      return { first, last: next };
    };
    await run(plan.warmupSeconds);
    const nodeCpu = nodes.reduce((sum, n) => sum + cpuMs(n.pid), 0);
    const pgCpu = treeCpuMs(postmaster);
    const generator = process.cpuUsage();
    refused = 0;
    const startedAt = performance.now();
    const { first, last } = await run(plan.stepSeconds);
    const deadline = performance.now() + DRAIN_MS;
    while (performance.now() < deadline && countIn(latencies, first, last) < last - first)
      await new Promise((resolve) => setTimeout(resolve, 20));
    const elapsedS = (performance.now() - startedAt) / 1000;
    const delivered = countIn(latencies, first, last);
    // Undelivered after the drain counts as infinitely late.
    const samples = Array.from(
      { length: last - first },
      (_, i) => latencies.get(first + i) ?? Infinity,
    );
    const used = process.cpuUsage(generator);
    const perMsg = (ms: number) => (delivered > 0 ? ms / delivered : 0);
    const pgMs = treeCpuMs(postmaster) - pgCpu;
    const step: ScaleStep = {
      offered: rate,
      delivered: delivered / plan.stepSeconds,
      p50: percentile(samples, 50),
      p99: percentile(samples, 99),
      refused,
      nodeCpuMsPerMsg: perMsg(nodes.reduce((sum, n) => sum + cpuMs(n.pid), 0) - nodeCpu),
      pgCpuMsPerMsg: perMsg(pgMs),
      generatorCpuMsPerMsg: perMsg((used.user + used.system) / 1000),
      pgCores: pgMs / (elapsedS * 1000),
    };
    steps.push(step);
    console.log(
      `  N=${nodes.length} offered ${rate}/s: delivered ${Math.round(step.delivered)}/s, p50 ${step.p50.toFixed(1)} ms, p99 ${step.p99.toFixed(1)} ms, refused ${refused}, node ${step.nodeCpuMsPerMsg.toFixed(3)} / PG ${step.pgCpuMsPerMsg.toFixed(3)} / generator ${step.generatorCpuMsPerMsg.toFixed(3)} CPU-ms per msg, PG ${(100 * step.pgCores).toFixed(0)}% of a core (${((100 * step.pgCores) / availableParallelism()).toFixed(0)}% of the machine)`,
    );
    for (let i = first; i < last; i++) {
      sentAt.delete(i);
      latencies.delete(i);
    }
    return step;
  };
  try {
    for (const rate of plan.rates) {
      const step = await measure(rate);
      if (step.p99 <= plan.p99LimitMs && step.refused === 0) continue;
      // One stall of a few hundred ms (another process on the machine) is 1%
      // of a 30 s step: a failing step is tried once more before it ends the grid.
      await settle();
      const again = await measure(rate);
      if (again.p99 > plan.p99LimitMs || again.refused > 0) break;
    }
    for (let i = 0; i < plan.refineSteps; i++) {
      const rate = refinement(steps, qualifies);
      if (rate === undefined) break;
      await settle();
      await measure(rate);
    }
  } finally {
    await Promise.all([...recipients, ...senders].map((c) => c.close()));
  }
  return steps;
}

/** Whether a step counts for the ceiling: p99 within the limit, nothing refused, and beyond one node PostgreSQL under its limit. */
export function qualifying(step: ScaleStep, nodes: number, plan: ScalePlan): boolean {
  return (
    step.p99 <= plan.p99LimitMs &&
    step.refused === 0 &&
    (nodes === 1 || step.pgCores < PG_CORES_LIMIT)
  );
}

/**
 * The offered rate halfway between the fastest step that qualified and the
 * slowest faster one that did not, or undefined when there is no such pair or
 * they are within 5% (finer than the machine's noise).
 */
export function refinement(
  steps: readonly ScaleStep[],
  qualifies: (step: ScaleStep) => boolean,
): number | undefined {
  const good = steps.filter(qualifies).map((step) => step.offered);
  const best = good.length === 0 ? 0 : Math.max(...good);
  const above = steps.filter((step) => !qualifies(step) && step.offered > best);
  if (good.length === 0 || above.length === 0) return undefined;
  const bad = Math.min(...above.map((step) => step.offered));
  return bad - best < 0.05 * best ? undefined : Math.round((best + bad) / 2);
}

function countIn(latencies: ReadonlyMap<number, number>, first: number, last: number): number {
  let count = 0;
  for (let i = first; i < last; i++) if (latencies.has(i)) count += 1;
  return count;
}

/**
 * The step of a run with the highest delivered rate whose p99 stayed within
 * the limit and nothing was refused, and, with `pgCoresBelow`, where
 * PostgreSQL used less than that share of one core (undefined if none did).
 */
export function ceilingOf(
  run: ScaleRun,
  p99LimitMs: number,
  pgCoresBelow = Infinity,
): ScaleStep | undefined {
  return run.steps
    .filter((step) => step.p99 <= p99LimitMs && step.refused === 0 && step.pgCores < pgCoresBelow)
    .reduce<ScaleStep | undefined>(
      (best, step) => (best === undefined || step.delivered > best.delivered ? step : best),
      undefined,
    );
}
