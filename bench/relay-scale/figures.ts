import { availableParallelism } from 'node:os';
import type { Metric } from '../support/report.ts';
import type { HeldConnections } from './connections.ts';
import {
  ceilingOf,
  PG_CORES_LIMIT,
  qualifying,
  type ScalePlan,
  type ScaleRun,
} from './scale-out.ts';

// The scale benchmarks' measurements as report rows (bench/results), with
// the targets of issue 14 §4. Figures come from whatever machine ran them:
// on a shared 2-core box, the nodes, PostgreSQL and the load generator compete.

const SECTION = 'relay-scale';

/** PostgreSQL's CPU at a step, as a share of one core and of all the machine's cores. */
function pgShare(pgCores: number): string {
  const cores = availableParallelism();
  return `${(100 * pgCores).toFixed(0)}% of a core, ${((100 * pgCores) / cores).toFixed(0)}% of the machine's ${cores} cores`;
}

/** Rows for the held-connections benchmark. */
export function connectionFigures(held: HeldConnections): Metric[] {
  const failures = [...held.failures].map(([reason, n]) => `${n}× ${reason}`).join('; ');
  const note = `${held.ready}/${held.attempted} ready in ${held.openSeconds.toFixed(0)} s; open-file limits bench ${held.fileLimits.bench ?? '?'}, node ${held.fileLimits.node ?? '?'}${failures ? `; failures: ${failures}` : ''}`;
  const { idle, loaded, cpu, probe } = held;
  const gcNote =
    probe === undefined
      ? ''
      : `; inside the node meanwhile: event-loop delay p50 ${probe.loop.p50.toFixed(1)} / p99 ${probe.loop.p99.toFixed(1)} / max ${probe.loop.max.toFixed(0)} ms, ${probe.gc.count} GC pauses (${probe.gc.major} major) ${probe.gc.totalMs.toFixed(0)} ms in all, longest ${probe.gc.maxMs.toFixed(1)} ms`;
  const shares = `node ${(100 * cpu.node).toFixed(0)}% of a core, load generator (separate process) ${(100 * cpu.generator).toFixed(0)}%, load average ${cpu.loadAverage.toFixed(1)}${gcNote}`;
  return [
    {
      section: SECTION,
      name: `p99 single-message delivery, one node (PostgreSQL) holding ${held.ready} connections`,
      value: loaded.p99,
      unit: 'ms',
      target: { op: '<=', value: 50 },
      baseline: { name: 'same node, 2 connections', value: idle.p99 },
      note: `p50 ${loaded.p50.toFixed(1)} / p95 ${loaded.p95.toFixed(1)} ms over ${loaded.samples} deliveries in ${cpu.seconds.toFixed(0)} s (${shares}); idle p50 ${idle.p50.toFixed(1)} / p95 ${idle.p95.toFixed(1)} / p99 ${idle.p99.toFixed(1)} ms; ${note}`,
    },
    {
      section: SECTION,
      name: 'node memory per held connection (RSS growth)',
      value: held.kibPerConnection,
      unit: 'KiB',
    },
  ];
}

/**
 * Rows for the scale-out runs: per N the highest delivered rate at a step with
 * p99 within the limit AND PostgreSQL under 70% of a core (so the target,
 * ≥ 0.8·N× the one-node ceiling, checks both conditions at one step), its
 * cost per message, and the ratio to N = 1 (whose ceiling is the node's alone).
 */
export function scaleFigures(runs: readonly ScaleRun[], plan: ScalePlan): Metric[] {
  const one = runs.find((run) => run.nodes === 1);
  const oneCeiling = one === undefined ? undefined : ceilingOf(one, plan.p99LimitMs);
  return runs.flatMap((run): Metric[] => {
    const latencyCeiling = ceilingOf(run, plan.p99LimitMs);
    const ceiling =
      run.nodes === 1 ? latencyCeiling : ceilingOf(run, plan.p99LimitMs, PG_CORES_LIMIT);
    const pgCapped =
      latencyCeiling !== undefined && latencyCeiling !== ceiling
        ? `; offered ${latencyCeiling.offered}/s delivered ${Math.round(latencyCeiling.delivered)}/s within p99 but PostgreSQL used ${pgShare(latencyCeiling.pgCores)} (limit ${PG_CORES_LIMIT * 100}% of a core)`
        : '';
    // The slowest step above the ceiling that did not qualify (steps come in the order run).
    const above = [...run.steps]
      .sort((a, b) => a.offered - b.offered)
      .find((step) => step.offered > (ceiling?.offered ?? 0) && !qualifying(step, run.nodes, plan));
    const where =
      ceiling === undefined
        ? `no step met p99 ≤ ${plan.p99LimitMs} ms${run.nodes === 1 ? '' : ` with PostgreSQL under ${PG_CORES_LIMIT * 100}% of a core`}`
        : `at offered ${ceiling.offered}/s: p99 ${ceiling.p99.toFixed(0)} ms, node ${ceiling.nodeCpuMsPerMsg.toFixed(2)} CPU-ms/msg, PostgreSQL ${ceiling.pgCpuMsPerMsg.toFixed(2)} CPU-ms/msg (${pgShare(ceiling.pgCores)}), generator ${ceiling.generatorCpuMsPerMsg.toFixed(2)} CPU-ms/msg`;
    const next =
      above !== undefined
        ? `; first step above that failed: offered ${above.offered}/s: delivered ${Math.round(above.delivered)}/s, p99 ${Number.isFinite(above.p99) ? `${above.p99.toFixed(0)} ms` : 'undelivered'}`
        : '';
    return [
      {
        section: SECTION,
        name:
          run.nodes === 1
            ? `scale-out N=1: delivered envelopes/s at p99 ≤ ${plan.p99LimitMs} ms`
            : `scale-out N=${run.nodes}: delivered envelopes/s at p99 ≤ ${plan.p99LimitMs} ms and PostgreSQL < ${PG_CORES_LIMIT * 100}% of a core`,
        value: ceiling?.delivered ?? 0,
        unit: 'msg/s',
        ...(run.nodes > 1 && oneCeiling !== undefined
          ? {
              baseline: { name: 'N=1', value: oneCeiling.delivered },
              target: { op: '>=', value: 0.8 * run.nodes * oneCeiling.delivered },
            }
          : {}),
        note: `each node capped to ${Math.round(plan.nodeShare * 100)}% of a core (${run.quota}), ${plan.sendersPerNode} sender connections per node; ${where}${pgCapped}${next}`,
      },
    ];
  });
}
