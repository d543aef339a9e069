import { searchMessages } from '../../electron/core/index.ts';
import { toFtsQuery } from '../../electron/core/history/history.ts';
import type { Sql } from '../../electron/core/db/sqlite.ts';
import { type Latency, sample } from '../support/stats.ts';

/** Query classes: what a user types into the search box. */
export const SEARCH_QUERIES = {
  common: ['the', 'you', 'okay', 'dinner'],
  rare: ['xylophone', 'quokka', 'harpsichord', 'jodhpurs'],
  prefix: ['tomor', 'resta', 'meet', 'birthd'],
  cjk: ['明天', 'ありがとう'],
} as const;

export type SearchClass = keyof typeof SEARCH_QUERIES;

export interface SearchLatency {
  readonly latency: Latency;
  /** FTS matches per query (before LIMIT 50), for context. */
  readonly matches: Readonly<Record<string, number>>;
}

const RUNS = { warmup: 2, minIterations: 12, maxIterations: 400, budgetMs: 6_000 } as const;

/** searchMessages(db, word, 50) latency per query class, rotating through its words. */
export function searchLatency(db: Sql): Record<SearchClass, SearchLatency> {
  const count = db.prepare('SELECT count(*) FROM messages_fts WHERE messages_fts MATCH ?', {
    pluck: true,
  });
  const result = {} as Record<SearchClass, SearchLatency>;
  for (const kind of Object.keys(SEARCH_QUERIES) as SearchClass[]) {
    const words = SEARCH_QUERIES[kind];
    const matches: Record<string, number> = {};
    for (const word of words) matches[word] = Number(count.get([toFtsQuery(word)!]));
    const latency = sample((i) => searchMessages(db, words[i % words.length]!, 50), RUNS);
    result[kind] = { latency, matches };
  }
  return result;
}
