import type { Metric } from '../support/report.ts';
import { percentile } from '../support/stats.ts';
import { type Floor, FLOOR_PRIMITIVES } from './floor.ts';

// The attachment section's figures from its interleaved runs: the product
// (median of the child's runs) against Node's raw AES-256-CBC over the same
// bytes in memory (the issue's baseline, median of every pass) and against
// the crypto floor (every primitive the path runs, timed alone, summed).

const SECTION = 'attachments';

/** What one child run printed (bench/attachments/child.ts). */
export interface ChildResult {
  readonly ms: number;
  readonly sendMs: number;
  readonly receiveMs: number;
  readonly saveMs: number;
  readonly cpuMs: number;
  /** Of cpuMs, the time spent in the kernel. */
  readonly systemMs: number;
  readonly bytes: number;
  readonly idleMB: number;
  readonly peakMB: number;
}

const mbps = (bytes: number, ms: number) => bytes / 1e6 / (ms / 1000);
const span = (values: readonly number[], digits = 0) =>
  `${Math.min(...values).toFixed(digits)}–${Math.max(...values).toFixed(digits)}`;

/** The run whose wall time is the median (nearest rank): its phases are reported. */
export function medianRun(results: readonly ChildResult[]): ChildResult {
  const ms = percentile(
    results.map((r) => r.ms),
    50,
  );
  return results.find((r) => r.ms === ms)!;
}

/** Figures of one size over one relay kind. */
export function attachmentFigures(
  label: string,
  bytes: number,
  results: readonly ChildResult[],
  floor: Floor,
): Metric[] {
  const run = medianRun(results);
  const product = mbps(bytes, run.ms);
  const aes = mbps(bytes, percentile(floor.aesWallMs, 50));
  const aesRange = floor.aesWallMs.map((ms) => mbps(bytes, ms));
  const mib = bytes / 2 ** 20;
  const cpus = results.map((r) => r.cpuMs / mib);
  const passes = FLOOR_PRIMITIVES.map(
    ({ name, count }) =>
      `${count === 1 ? '' : `${count} × `}${name} ${floor.perPass.get(name)!.wallMs.toFixed(1)} ms`,
  ).join(', ');
  const peaks = results.map((r) => r.peakMB - r.idleMB);
  const systems = results.map((r) => (100 * r.systemMs) / r.cpuMs);
  const aesCpu = floor.aesCpuMs.map((ms) => mbps(bytes, ms));
  return [
    {
      section: SECTION,
      name: `${label}: end to end (send + receive + save)`,
      value: product,
      unit: 'MB/s',
      baseline: { name: 'raw AES-256-CBC in memory', value: aes },
      target: { op: '>=', value: 0.5 * aes },
      note: `median of ${results.length} runs (${span(
        results.map((r) => mbps(bytes, r.ms)),
        1,
      )} MB/s); median run: send ${run.sendMs.toFixed(0)} ms, receive ${run.receiveMs.toFixed(0)} ms, save ${run.saveMs.toFixed(0)} ms. Baseline: median of ${aesRange.length} in-memory passes interleaved with the runs (${span(aesRange)} MB/s)`,
    },
    {
      section: SECTION,
      name: `${label}: end to end per CPU second`,
      value: mbps(bytes, percentile(cpus, 50) * mib),
      unit: 'MB/s',
      baseline: { name: 'raw AES-256-CBC per CPU second', value: percentile(aesCpu, 50) },
      note: `the issue's ratio in CPU time (every thread of the child against the AES pass's own), which a busy machine moves far less than the wall clock: AES ${span(aesCpu)} MB per CPU second over the ${aesCpu.length} passes`,
    },
    {
      section: SECTION,
      name: `${label}: end to end vs its crypto floor`,
      value: product,
      unit: 'MB/s',
      baseline: { name: 'crypto floor', value: mbps(bytes, floor.wallMs) },
      note: `floor ${floor.wallMs.toFixed(0)} ms: every crypto pass the path runs over the bytes, each timed alone in memory on one thread (median per pass): ${passes}`,
    },
    {
      section: SECTION,
      name: `${label}: CPU per MiB`,
      value: percentile(cpus, 50),
      unit: 'ms',
      baseline: { name: 'crypto floor CPU', value: floor.cpuMs / mib },
      note: `median of ${results.length} runs (${span(cpus, 1)} ms/MiB, every thread of the child; ${percentile(systems, 50).toFixed(0)} % of it in the kernel, median) against the floor's ${floor.cpuMs.toFixed(0)} ms of CPU`,
    },
    {
      section: SECTION,
      name: `${label}: peak RSS above idle`,
      value: Math.max(...peaks),
      unit: 'MB',
      target: { op: '<=', value: 150 },
      note: `highest of ${results.length} runs (${span(peaks)} MB)`,
    },
  ];
}
