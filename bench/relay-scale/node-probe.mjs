// Loaded into the relay node by the held-connections bench (NODE_OPTIONS
// --import; `--trace-gc` is not allowed there): the node's event-loop delay
// (perf_hooks.monitorEventLoopDelay) and its GC pauses, measured inside the
// real process. SIGUSR2 prints one `bench-probe {json}` line on stdout with
// what was seen since the previous SIGUSR2, then starts over. Bench only.
import { constants, monitorEventLoopDelay, PerformanceObserver } from 'node:perf_hooks';

const RESOLUTION_MS = 10;
const delay = monitorEventLoopDelay({ resolution: RESOLUTION_MS });
delay.enable();
let gc = { count: 0, totalMs: 0, maxMs: 0, major: 0 };
new PerformanceObserver((list) => {
  for (const entry of list.getEntries()) {
    gc.count += 1;
    gc.totalMs += entry.duration;
    gc.maxMs = Math.max(gc.maxMs, entry.duration);
    if (entry.detail?.kind === constants.NODE_PERFORMANCE_GC_MAJOR) gc.major += 1;
  }
}).observe({ entryTypes: ['gc'] });

process.on('SIGUSR2', () => {
  // The histogram records whole intervals of its 10 ms timer: the delay is what exceeds that.
  const ms = (ns) => Math.max(0, ns / 1e6 - RESOLUTION_MS);
  const loop = {
    p50: ms(delay.percentile(50)),
    p99: ms(delay.percentile(99)),
    max: ms(delay.max),
  };
  process.stdout.write(`bench-probe ${JSON.stringify({ loop, gc })}\n`);
  delay.reset();
  gc = { count: 0, totalMs: 0, maxMs: 0, major: 0 };
});
