import { afterAll, beforeAll } from 'vitest';
import { startTestPostgres, type TestPostgres } from '../../../support/postgres.ts';
import { type RelayProcess, useRelayStore } from '../../../support/relay-process.ts';
import { startNodes } from '../cluster.ts';

// The fixture the multi-node files share: one durable PostgreSQL (fsync on)
// and relay node processes on one database for the whole file. Apart from
// cluster.ts because that one is the bench's too, and this one registers
// vitest hooks. Not a test file itself.

/** What a file's tests reach; `nodes` may be narrowed by a test that kills one. */
export interface Cluster {
  postgres: TestPostgres;
  database: string;
  nodes: RelayProcess[];
}

/** Starts PostgreSQL and `count` relay nodes before the file's tests and stops them after. */
export function useCluster(count: number): Cluster {
  const cluster = { database: '', nodes: [] } as unknown as Cluster;
  beforeAll(async () => {
    cluster.postgres = await startTestPostgres({ durable: true });
    cluster.database = await cluster.postgres.createDatabase();
    useRelayStore(() => Promise.resolve(['--database', cluster.database]));
    cluster.nodes = await startNodes(count);
  });
  afterAll(async () => {
    for (const node of cluster.nodes) await node.stop();
    await cluster.postgres.stop();
  });
  return cluster;
}
