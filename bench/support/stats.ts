import { performance } from 'node:perf_hooks';

/** Latency distribution of one measured operation, in milliseconds. */
export interface Latency {
  readonly samples: number;
  readonly median: number;
  readonly p95: number;
  readonly min: number;
  readonly max: number;
}

/** Nearest-rank percentile of `values` (0 < p ≤ 100). */
export function percentile(values: readonly number[], p: number): number {
  if (values.length === 0) throw new Error('no samples');
  const sorted = [...values].sort((a, b) => a - b);
  const rank = Math.ceil((p / 100) * sorted.length);
  return sorted[Math.min(sorted.length, Math.max(1, rank)) - 1]!;
}

/** Summarises raw millisecond samples. */
export function summarise(values: readonly number[]): Latency {
  return {
    samples: values.length,
    median: percentile(values, 50),
    p95: percentile(values, 95),
    min: Math.min(...values),
    max: Math.max(...values),
  };
}

export interface SampleOptions {
  /** Untimed runs first (JIT, page cache, statement cache). */
  readonly warmup?: number;
  readonly minIterations: number;
  readonly maxIterations: number;
  /** Stop after this much measured time once minIterations are done. */
  readonly budgetMs: number;
}

/**
 * Times `run(i)` repeatedly (synchronous work only) and summarises the
 * per-call latency. `i` lets the caller rotate inputs.
 */
export function sample(run: (i: number) => unknown, options: SampleOptions): Latency {
  for (let i = 0; i < (options.warmup ?? 0); i++) run(i);
  const times: number[] = [];
  let spent = 0;
  for (let i = 0; i < options.maxIterations; i++) {
    if (i >= options.minIterations && spent >= options.budgetMs) break;
    const start = performance.now();
    run(i);
    const elapsed = performance.now() - start;
    times.push(elapsed);
    spent += elapsed;
  }
  return summarise(times);
}

/** Times an async call. */
export async function timeAsync<T>(run: () => Promise<T>): Promise<{ value: T; ms: number }> {
  const start = performance.now();
  const value = await run();
  return { value, ms: performance.now() - start };
}
