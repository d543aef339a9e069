import { describe, expect, it } from 'vitest';
import { scaleFigures } from '../../../bench/relay-scale/figures.ts';
import {
  qualifying,
  refinement,
  type ScalePlan,
  type ScaleRun,
  type ScaleStep,
} from '../../../bench/relay-scale/scale-out.ts';
import { meets } from '../../../bench/support/report.ts';

// The scale-out verdict (issue 14 §4): N nodes pass only at a step that both
// delivers ≥ 0.8·N× the one-node ceiling within p99 AND keeps PostgreSQL
// under 70% of one core. Synthetic runs, so each condition is tested alone.

const PLAN: ScalePlan = {
  nodes: [1, 4],
  nodeShare: 0.2,
  recipients: 200,
  sendersPerNode: 2,
  bodyBytes: 256,
  rates: [],
  warmupSeconds: 0,
  stepSeconds: 1,
  p99LimitMs: 200,
  refineSteps: 2,
  gatherMs: 8,
};

const step = (delivered: number, p99: number, pgCores: number): ScaleStep => ({
  offered: delivered,
  delivered,
  p50: p99 / 2,
  p99,
  refused: 0,
  nodeCpuMsPerMsg: 1,
  pgCpuMsPerMsg: (pgCores * 1000) / delivered,
  generatorCpuMsPerMsg: 0.1,
  pgCores,
});
const run = (nodes: number, steps: ScaleStep[]): ScaleRun => ({
  nodes,
  quota: 'cgroup v1 cpu',
  steps,
});
const one = run(1, [step(100, 20, 0.1), step(200, 60, 0.2), step(280, 400, 0.3)]);

describe('scale-out verdict', () => {
  it('4.0× within p99 but PostgreSQL at 86% of a core does not meet the target', () => {
    const four = run(4, [step(400, 30, 0.43), step(560, 40, 0.65), step(800, 46, 0.86)]);
    const row = scaleFigures([one, four], PLAN)[1]!;
    // The qualifying step is 560/s (PostgreSQL 65%): 2.8× < 3.2×.
    expect(row.value).toBe(560);
    expect(row.target).toEqual({ op: '>=', value: 640 });
    expect(meets(row)).toBe('NO');
    expect(row.note).toContain('800/s within p99 but PostgreSQL used 86% of a core');
    expect(row.note).toMatch(/65% of a core, \d+% of the machine's \d+ cores/);
  });

  it('≥ 3.2× at a step with PostgreSQL under 70% meets it; a faster step over p99 does not count', () => {
    const four = run(4, [step(560, 40, 0.5), step(700, 80, 0.62), step(900, 350, 0.69)]);
    const row = scaleFigures([one, four], PLAN)[1]!;
    expect(row.value).toBe(700);
    expect(meets(row)).toBe('yes');
  });

  it('the one-node ceiling is the node’s alone (no PostgreSQL condition), and no qualifying step is 0', () => {
    const busyOne = run(1, [step(200, 60, 0.9)]);
    const four = run(4, [step(800, 40, 0.95)]);
    const [oneRow, fourRow] = scaleFigures([busyOne, four], PLAN);
    expect(oneRow!.value).toBe(200);
    expect(fourRow!.value).toBe(0);
    expect(meets(fourRow!)).toBe('NO');
    expect(fourRow!.note).toContain('no step met p99 ≤ 200 ms with PostgreSQL under 70% of a core');
  });
});

describe('placing the ceiling between grid steps', () => {
  const atOne = (s: ScaleStep) => qualifying(s, 1, PLAN);
  const atFour = (s: ScaleStep) => qualifying(s, 4, PLAN);

  it('halves the gap between the fastest qualifying step and the slowest failing one above it', () => {
    const grid = [step(280, 40, 0.2), step(400, 120, 0.3), step(560, 900, 0.4)];
    expect(refinement(grid, atOne)).toBe(480);
    // The half qualified: the next half is above it; it failed: below it.
    expect(refinement([...grid, step(480, 150, 0.35)], atOne)).toBe(520);
    expect(refinement([...grid, step(480, 400, 0.35)], atOne)).toBe(440);
    // A step that failed once and passed when tried again is no bound.
    const retried = [...grid.slice(0, 2), step(560, 250, 0.4), step(560, 90, 0.4)];
    expect(refinement([...retried, step(800, 900, 0.5)], atOne)).toBe(680);
    // Within 5% of the ceiling: finer than the machine's noise, stop.
    expect(refinement([step(400, 120, 0.3), step(415, 900, 0.3)], atOne)).toBeUndefined();
  });

  it('beyond one node PostgreSQL over 70% of a core is a failing step, and with nothing qualifying there is nothing to refine', () => {
    const grid = [step(800, 20, 0.6), step(1_100, 47, 0.75), step(1_600, 800, 0.9)];
    expect(refinement(grid, atFour)).toBe(950);
    expect(refinement(grid, atOne)).toBe(1_350);
    expect(refinement([step(800, 300, 0.5)], atOne)).toBeUndefined();
    expect(refinement([step(800, 20, 0.5)], atOne)).toBeUndefined();
  });

  it('a refined step is the ceiling when it is the best, and the note names the slowest failing step above it', () => {
    const four = run(4, [
      step(800, 20, 0.6),
      step(1_100, 47, 0.75),
      step(1_600, 800, 0.9),
      step(950, 30, 0.66),
      step(1_025, 35, 0.72),
    ]);
    const row = scaleFigures([one, four], PLAN)[1]!;
    expect(row.value).toBe(950);
    expect(row.note).toContain('first step above that failed: offered 1025/s');
  });
});
