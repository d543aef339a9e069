import { afterAll, beforeAll, expect, it } from 'vitest';
import { freePort, startTestPostgres, type TestPostgres } from '../../../support/postgres.ts';
import { registeredDevice } from '../../../support/relay-client.ts';
import { runRelayCli, startRelayProcess, useRelayStore } from '../../../support/relay-process.ts';

// `sotto-relay` choosing PostgreSQL from the environment, and refusing a
// database it cannot reach without printing its URL (it may hold a password).

let postgres: TestPostgres;
beforeAll(async () => {
  postgres = await startTestPostgres();
});
afterAll(async () => {
  await postgres.stop();
});

it('SOTTO_RELAY_DATABASE_URL alone selects PostgreSQL; two nodes started together migrate once and agree on the relay id', async () => {
  const url = await postgres.createDatabase();
  // No store argument at all: the environment alone must pick the database.
  useRelayStore(() => Promise.resolve([]));
  const start = () => startRelayProcess('', { env: { SOTTO_RELAY_DATABASE_URL: url } });
  const [a, b] = await Promise.all([start(), start()]);
  expect(a.relayId).toBe(b.relayId);
  const bob = await registeredDevice(a.url);
  await bob.client.close();
  expect(await a.stop()).toBe(0);
  expect(await b.stop()).toBe(0);
});

it('an unreachable database: exit 1 saying what failed, never the URL or its password', async () => {
  const port = await freePort();
  const { code, stderr } = await runRelayCli(['--port', '0'], {
    SOTTO_RELAY_DATABASE_URL: `postgres://relay:hunter2@127.0.0.1:${port}/relay`,
  });
  expect(code).toBe(1);
  expect(stderr).toContain('cannot open the database (ECONNREFUSED)');
  expect(stderr).not.toContain('hunter2');
  expect(stderr).not.toContain(String(port));
});
