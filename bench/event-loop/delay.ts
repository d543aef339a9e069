import { monitorEventLoopDelay, performance } from 'node:perf_hooks';

/** Event-loop delay of the calling thread while `work` ran, in milliseconds. */
export interface LoopDelay {
  readonly p50: number;
  readonly p99: number;
  readonly max: number;
  /** Wall time of `work`. */
  readonly wallMs: number;
}

/** Histogram sampling interval: fine enough to see a 50 ms stall many times over. */
const RESOLUTION_MS = 5;

/** Runs `work` while Node's event-loop delay histogram samples this thread. */
export async function measureLoopDelay(work: () => Promise<void>): Promise<LoopDelay> {
  const histogram = monitorEventLoopDelay({ resolution: RESOLUTION_MS });
  histogram.enable();
  const start = performance.now();
  try {
    await work();
  } finally {
    histogram.disable();
  }
  const wallMs = performance.now() - start;
  const ms = (ns: number) => ns / 1e6;
  return {
    p50: ms(histogram.percentile(50)),
    p99: ms(histogram.percentile(99)),
    max: ms(histogram.max),
    wallMs,
  };
}

/** Lets the event loop turn (timers, I/O) once: what happens between two IPC messages. */
export const turn = (): Promise<void> => new Promise((resolve) => setImmediate(resolve));
