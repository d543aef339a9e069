import { afterAll, beforeAll, expect } from 'vitest';
import { startTestPostgres, type TestPostgres } from '../../../support/postgres.ts';
import { useRelayStore } from '../../../support/relay-process.ts';

// The relay-level suites again, on PostgreSQL: a file here starts one server,
// makes every relay it starts use a fresh database of it (`--database URL`
// instead of `--data DIR`), then imports the SQLite suite it re-runs, whose
// tests are collected into this file. Not a test file itself.

/** Starts PostgreSQL for this file (before the imported suite's own hooks) and points relays at it. */
export function usePostgresRelays(): { server(): TestPostgres } {
  let postgres: TestPostgres | undefined;
  let relays = 0;
  beforeAll(async () => {
    postgres = await startTestPostgres();
  });
  afterAll(async () => {
    await postgres?.stop();
    // The suite really ran its relays here, not on SQLite.
    expect(relays).toBeGreaterThan(0);
  });
  const server = (): TestPostgres => {
    if (postgres === undefined) throw new Error('PostgreSQL starts in beforeAll');
    return postgres;
  };
  useRelayStore(async () => {
    relays += 1;
    return ['--database', await server().createDatabase()];
  });
  return { server };
}
