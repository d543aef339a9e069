import { DEFAULT_KDF_COST } from '../../electron/core/index.ts';
import { existsSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { profilePaths } from '../../electron/core/index.ts';
import { HISTORY_CONVERSATIONS } from '../support/config.ts';
import type { Metric } from '../support/report.ts';
import type { Latency } from '../support/stats.ts';
import { tempDir } from '../support/temp.ts';
import { buildHistory } from './build.ts';
import { openLatency, productCostUnwrap } from './open.ts';
import { pagingLatency } from './paging.ts';
import { SEARCH_QUERIES, type SearchClass, searchLatency } from './search.ts';

const SECTION = 'history';
const OPEN_RUNS = 5;

function fileSize(path: string): number {
  return existsSync(path) ? statSync(path).size : 0;
}

function ms(name: string, value: number, extra: Partial<Metric> = {}): Metric {
  return { section: SECTION, name, value, unit: 'ms', ...extra };
}

function spread(l: Latency): string {
  return `n=${l.samples}, min ${l.min.toFixed(3)} ms, max ${l.max.toFixed(3)} ms`;
}

/** Benchmark 2: a profile with `total` messages in 200 conversations. */
export async function historySection(total: number): Promise<Metric[]> {
  console.log(
    `\n[history] building ${total.toLocaleString('en-US')} messages across ${HISTORY_CONVERSATIONS} conversations…`,
  );
  const dir = join(tempDir('sotto-bench-history-'), 'profile');
  const passphrase = 'bench history passphrase';
  const built = await buildHistory(dir, passphrase, total, HISTORY_CONVERSATIONS);
  const { profile, conversations } = built;
  const importRate = (total / built.importMs) * 1000;
  const paths = profilePaths(dir);
  const dbBytes = fileSize(paths.database);
  const walBytes = fileSize(`${paths.database}-wal`);
  const busiest = Math.max(...conversations.map((c) => c.messages));
  const quietest = Math.min(...conversations.map((c) => c.messages));
  console.log(
    `  imported in ${(built.importMs / 1000).toFixed(1)} s (build ${(built.buildMs / 1000).toFixed(1)} s);` +
      ` conversations hold ${quietest.toLocaleString('en-US')}..${busiest.toLocaleString('en-US')} messages`,
  );

  console.log('  paging…');
  const paging = pagingLatency(profile.db, conversations);
  console.log('  search…');
  const search = searchLatency(profile.db);
  await profile.close();
  console.log('  open → conversation list…');
  const open = await openLatency(dir, passphrase, OPEN_RUNS);
  const productUnwrap = await productCostUnwrap(3);

  const rawMedian = { name: 'raw query', value: paging.latestRaw.median };
  const searchRows = (Object.keys(SEARCH_QUERIES) as SearchClass[]).flatMap((kind) => {
    const { latency, matches } = search[kind];
    const words = Object.entries(matches)
      .map(([w, n]) => `'${w}' ${n.toLocaleString('en-US')}`)
      .join(', ');
    return [
      ms(`search ${kind}: median`, latency.median),
      ms(`search ${kind}: p95`, latency.p95, {
        target: { op: '<=', value: 30 },
        note: `FTS matches: ${words}; ${spread(latency)}`,
      }),
    ];
  });

  return [
    {
      section: SECTION,
      name: 'bulk import',
      value: importRate,
      unit: 'msg/s',
      target: { op: '>=', value: 50_000 },
      note: `${total.toLocaleString('en-US')} rows via importMessages (50,000 per transaction, 256 MiB page cache, the three secondary indexes (the unique sender one included) and the search index built once at the end); ${(built.importMs / 1000).toFixed(1)} s`,
    },
    ms('latest 50, raw query (baseline): median', paging.latestRaw.median, {
      note: `no sender-name joins; p95 ${paging.latestRaw.p95.toFixed(3)} ms; ${spread(paging.latestRaw)}`,
    }),
    ms('messagesPage latest 50: median', paging.latest.median, {
      target: { op: '<=', value: 2 },
      baseline: rawMedian,
    }),
    ms('messagesPage latest 50: p95', paging.latest.p95, {
      baseline: { name: 'raw query p95', value: paging.latestRaw.p95 },
      note: spread(paging.latest),
    }),
    ms('messagesPage older (keyset, mid): median', paging.older.median, {
      target: { op: '<=', value: 2 },
      baseline: rawMedian,
    }),
    ms('messagesPage older (keyset, mid): p95', paging.older.p95, { note: spread(paging.older) }),
    ...searchRows,
    ms('open → conversation list: median', open.openToList.median, {
      target: { op: '<=', value: 200 },
      note: `Profile.open + listConversations, ${spread(open.openToList)}; integrity check runs after in a worker (${open.integrityMs} ms)`,
    }),
    ms('open → conversation list: p95', open.openToList.p95),
    ms('  of which Argon2id unwrap (bench cost)', open.unwrap.median, {
      note: '1 MiB, 1 pass, 1 lane',
    }),
    ms('listConversations alone: median', open.list.median),
    ms('Argon2id unwrap at DEFAULT_KDF_COST (context)', productUnwrap.median, {
      note: `not part of the bench figure: ${DEFAULT_KDF_COST.memoryKiB / 1024} MiB, ${DEFAULT_KDF_COST.iterations} passes, median of warm runs (the first derivation in a fresh process is slower); a real open adds this instead of the bench unwrap`,
    }),
    {
      section: SECTION,
      name: 'database size (sotto.db + -wal)',
      value: (dbBytes + walBytes) / 1e6,
      unit: 'MB',
      note: `sotto.db ${(dbBytes / 1e6).toFixed(1)} MB + wal ${(walBytes / 1e6).toFixed(1)} MB; ${Math.round((dbBytes + walBytes) / total)} bytes/message`,
    },
  ];
}
