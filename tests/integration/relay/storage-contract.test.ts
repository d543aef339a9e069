import { afterAll, beforeAll } from 'vitest';
import { PostgresRelayStorage } from '../../../relay/postgres/storage.ts';
import { SqliteRelayStorage } from '../../../relay/sqlite-storage.ts';
import { WorkerRelayStorage } from '../../../relay/worker-storage.ts';
import { startTestPostgres, type TestPostgres } from '../../support/postgres.ts';
import { relayDataDir } from '../../support/relay-client.ts';
import { describeStorageContract } from './storage-contract.ts';

// One contract, every backend: the embedded SQLite (in-thread and behind its
// worker thread, as sotto-relay runs it) and PostgreSQL (a real server started
// for this file).

let postgres: TestPostgres | undefined;
beforeAll(async () => {
  postgres = await startTestPostgres();
});
afterAll(async () => {
  await postgres?.stop();
});

describeStorageContract('SQLite', () => Promise.resolve(SqliteRelayStorage.open(relayDataDir())));
describeStorageContract('SQLite in its worker thread', () =>
  WorkerRelayStorage.open(relayDataDir()),
);
describeStorageContract('PostgreSQL', async () => {
  if (postgres === undefined) throw new Error('PostgreSQL starts in beforeAll');
  return await PostgresRelayStorage.open(await postgres.createDatabase());
});
