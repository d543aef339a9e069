import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { PostgresRelayStorage } from '../../../../relay/postgres/storage.ts';
import { createRelayServer, type RelayServer } from '../../../../relay/server.ts';
import { waitFor } from '../../../support/blob-http.ts';
import { startTestPostgres, type TestPostgres } from '../../../support/postgres.ts';
import {
  connectAnonymous,
  connectAs,
  RelayTestClient,
  registeredDevice,
} from '../../../support/relay-client.ts';
import { moveNotice, sendFrame } from '../fixtures.ts';

// A move made through one node closes the old account's connections on the
// other nodes too: each node asks the shared account table every movedCheckMs
// (30 s by default; 200 ms here, in-process nodes as the factory allows).

const CHECK_MS = 200;
let postgres: TestPostgres;
const nodes: { storage: PostgresRelayStorage; relay: RelayServer; url: string }[] = [];
/** Checks node B finished (movedAmong answered). */
let checksOnB = 0;

/** Node B's storage, counting its moved checks. */
function counted(storage: PostgresRelayStorage): PostgresRelayStorage {
  return new Proxy(storage, {
    get(target, key) {
      if (key === 'movedAmong')
        return async (ids: Parameters<PostgresRelayStorage['movedAmong']>[0]) => {
          const moved = await target.movedAmong(ids);
          checksOnB += 1;
          return moved;
        };
      const value: unknown = Reflect.get(target, key, target);
      return typeof value === 'function' ? (value as () => unknown).bind(target) : value;
    },
  });
}

beforeAll(async () => {
  postgres = await startTestPostgres();
  const database = await postgres.createDatabase();
  for (let i = 0; i < 2; i++) {
    const storage = await PostgresRelayStorage.open(database);
    const relay = createRelayServer({
      storage: i === 1 ? counted(storage) : storage,
      movedCheckMs: CHECK_MS,
    });
    nodes.push({ storage, relay, url: `ws://127.0.0.1:${await relay.listen(0)}/v2` });
  }
});
afterAll(async () => {
  for (const { relay, storage } of nodes) {
    await relay.close();
    await storage.close();
  }
  await postgres.stop();
});

it('a move through node A evicts the old account on node B within the check, and leaves everyone else connected', async () => {
  const [a, b] = nodes;
  const old = await registeredDevice(b!.url);
  const { client: oldSecond } = await connectAs(b!.url, old.device);
  const bystander = await registeredDevice(b!.url);
  const fresh = await registeredDevice(a!.url);
  expect(
    await fresh.client.request({
      type: 'account.move',
      notice: moveNotice(old.device, fresh.device),
    }),
  ).toMatchObject({ type: 'ok' });
  for (const client of [old.client, oldSecond]) {
    expect(await client.next('error')).toMatchObject({ code: 'RELAY_ERR_ACCOUNT_MOVED' });
    expect((await client.closed).code).toBe(4001);
  }
  // Three more checks of B later the bystander is still served (the check evicts only the moved).
  const after = checksOnB;
  await waitFor(() => checksOnB >= after + 3, 'three more moved checks on node B');
  const sender = await connectAnonymous(b!.url);
  const sent = await sender.request(sendFrame(bystander.device, bystander.token, randomBytes(8)));
  expect(sent).toMatchObject({ type: 'ok' });
  expect(await bystander.client.envelopes(1)).toHaveLength(1);
  // And the old account cannot come back on B either.
  const again = await RelayTestClient.connect(b!.url);
  again.sendAuth(old.device);
  expect(await again.next('error')).toMatchObject({ code: 'RELAY_ERR_ACCOUNT_MOVED' });
  await Promise.all([fresh.client.close(), bystander.client.close(), sender.close()]);
});
