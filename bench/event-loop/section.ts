import { loadavg } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { Profile, searchMessages } from '../../electron/core/index.ts';
import { CoreHost } from '../../electron/main/core-host.ts';
import { BENCH_KDF, HISTORY_CONVERSATIONS } from '../support/config.ts';
import type { Metric } from '../support/report.ts';
import { type Latency, summarise } from '../support/stats.ts';
import { tempDir } from '../support/temp.ts';
import { buildHistory } from '../history/build.ts';
import { type LoopDelay, measureLoopDelay, turn } from './delay.ts';

// Benchmark: does a full-text search block the main thread? The same searches
// run (a) on the main thread, as if main hosted the core itself, and (b) in the
// core's worker thread through CoreHost, as the app does; each time Node's
// event-loop delay histogram watches the main thread.

const SECTION = 'event-loop';
const PASSPHRASE = 'bench event loop passphrase';
/**
 * What a user types first into the search box: one or two letters, prefix
 * queries that touch a large share of the index (the most expensive searches
 * the UI can send), at the contract's largest page (200 results).
 */
const QUERIES = ['t', 'a', 's', 'm', 'th'] as const;
const LIMIT = 200;
const SEARCHES = 40;
const IDLE_MS = 2_000;

interface Run {
  readonly delay: LoopDelay;
  readonly search: Latency;
}

const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

/**
 * Opens the profile in-process and waits for its background integrity check
 * (R7: a few seconds of a second thread at 1M messages), which is startup
 * work, not search work. Returns how long that took.
 */
async function openSettled(dir: string): Promise<{ profile: Profile; settleMs: number }> {
  const start = performance.now();
  const profile = await Profile.open(dir, { passphrase: PASSPHRASE });
  await profile.integrity;
  return { profile, settleMs: performance.now() - start };
}

async function onMainThread(profile: Profile): Promise<Run> {
  try {
    for (const query of QUERIES) searchMessages(profile.db, query, LIMIT); // warm-up: page cache, statements
    const times: number[] = [];
    const delay = await measureLoopDelay(async () => {
      for (let i = 0; i < SEARCHES; i++) {
        const start = performance.now();
        searchMessages(profile.db, QUERIES[i % QUERIES.length]!, LIMIT);
        times.push(performance.now() - start);
        await turn();
      }
    });
    return { delay, search: summarise(times) };
  } finally {
    await profile.close();
  }
}

async function inWorker(dir: string, settleMs: number): Promise<Run & { idle: LoopDelay }> {
  const host = await CoreHost.start({ profileDir: dir, sync: false, kdfCost: BENCH_KDF });
  try {
    const unlocked = await host.call('profile:unlock', { passphrase: PASSPHRASE });
    if (!unlocked.ok) throw new Error(`unlock failed: ${unlocked.code}`);
    // The worker's integrity check cannot be awaited through the contract:
    // give it twice as long as it took in-process.
    await sleep(2 * settleMs);
    for (const query of QUERIES) await host.call('messages:search', { query, limit: LIMIT });
    // Same conditions without searching: what the OS scheduler alone costs the main thread.
    const idle = await measureLoopDelay(() => sleep(IDLE_MS));
    const times: number[] = [];
    const delay = await measureLoopDelay(async () => {
      for (let i = 0; i < SEARCHES; i++) {
        const start = performance.now();
        const result = await host.call('messages:search', {
          query: QUERIES[i % QUERIES.length]!,
          limit: LIMIT,
        });
        if (!result.ok) throw new Error(`search failed: ${result.code}`);
        times.push(performance.now() - start);
      }
    });
    return { delay, search: summarise(times), idle };
  } finally {
    await host.close();
  }
}

function ms(name: string, value: number, extra: Partial<Metric> = {}): Metric {
  return { section: SECTION, name, value, unit: 'ms', ...extra };
}

/** Main-thread event-loop delay during searches over a `total`-message profile, core in a worker vs on the main thread. */
export async function eventLoopSection(total: number): Promise<Metric[]> {
  console.log(`\n[event-loop] building ${total.toLocaleString('en-US')} messages for the search…`);
  const dir = join(tempDir('sotto-bench-event-loop-'), 'profile');
  const built = await buildHistory(dir, PASSPHRASE, total, HISTORY_CONVERSATIONS);
  await built.profile.close();

  console.log(`  ${SEARCHES} searches on the main thread (baseline)…`);
  const { profile, settleMs } = await openSettled(dir);
  const main = await onMainThread(profile);
  console.log(`  ${SEARCHES} searches in the core worker (CoreHost)…`);
  const worker = await inWorker(dir, settleMs);
  const { idle } = worker;

  const queries = `${SEARCHES} searches cycling ${QUERIES.map((q) => `'${q}'`).join(', ')} (limit ${LIMIT})`;
  return [
    ms('loop delay p99, search in worker', worker.delay.p99, {
      target: { op: '<=', value: 50 },
      baseline: { name: 'search on main thread', value: main.delay.p99 },
      note: `${queries}; main-thread p99 ${main.delay.p99.toFixed(1)} ms; worker open but idle p99 ${idle.p99.toFixed(1)} ms; load average ${loadavg()[0]!.toFixed(1)}`,
    }),
    ms('loop delay max, search in worker', worker.delay.max, {
      baseline: { name: 'search on main thread', value: main.delay.max },
      note: `main-thread max ${main.delay.max.toFixed(1)} ms; worker open but idle max ${idle.max.toFixed(1)} ms`,
    }),
    ms('search latency median, in worker', worker.search.median, {
      baseline: { name: 'on main thread', value: main.search.median },
      note: `worker p95 ${worker.search.p95.toFixed(1)} ms (includes the thread hop); main-thread p95 ${main.search.p95.toFixed(1)} ms`,
    }),
  ];
}
