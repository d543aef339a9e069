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

async function onMainThread(dir: string): Promise<Run> {
  const profile = await Profile.open(dir, { passphrase: PASSPHRASE });
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

async function inWorker(dir: string): Promise<Run> {
  const host = await CoreHost.start({ profileDir: dir, sync: false, kdfCost: BENCH_KDF });
  try {
    const unlocked = await host.call('profile:unlock', { passphrase: PASSPHRASE });
    if (!unlocked.ok) throw new Error(`unlock failed: ${unlocked.code}`);
    for (const query of QUERIES) await host.call('messages:search', { query, limit: LIMIT });
    const times: number[] = [];
    const delay = await measureLoopDelay(async () => {
      for (let i = 0; i < SEARCHES; i++) {
        const start = performance.now();
        const result = await host.call('messages:search', { query: QUERIES[i % QUERIES.length]!, limit: LIMIT });
        if (!result.ok) throw new Error(`search failed: ${result.code}`);
        times.push(performance.now() - start);
      }
    });
    return { delay, search: summarise(times) };
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

  console.log('  idle main thread…');
  const idle = await measureLoopDelay(() => new Promise((resolve) => setTimeout(resolve, IDLE_MS)));
  console.log(`  ${SEARCHES} searches on the main thread (baseline)…`);
  const main = await onMainThread(dir);
  console.log(`  ${SEARCHES} searches in the core worker (CoreHost)…`);
  const worker = await inWorker(dir);

  const queries = `${SEARCHES} searches cycling ${QUERIES.map((q) => `'${q}'`).join(', ')} (limit ${LIMIT})`;
  return [
    ms('loop delay p99, search in worker', worker.delay.p99, {
      target: { op: '<=', value: 50 },
      baseline: { name: 'search on main thread', value: main.delay.p99 },
      note: `${queries}; main-thread p99 ${main.delay.p99.toFixed(1)} ms; idle p99 ${idle.p99.toFixed(1)} ms`,
    }),
    ms('loop delay max, search in worker', worker.delay.max, {
      baseline: { name: 'search on main thread', value: main.delay.max },
      note: `main-thread max ${main.delay.max.toFixed(1)} ms; idle max ${idle.max.toFixed(1)} ms`,
    }),
    ms('search latency median, in worker', worker.search.median, {
      baseline: { name: 'on main thread', value: main.search.median },
      note: `worker p95 ${worker.search.p95.toFixed(1)} ms (includes the thread hop); main-thread p95 ${main.search.p95.toFixed(1)} ms`,
    }),
  ];
}
