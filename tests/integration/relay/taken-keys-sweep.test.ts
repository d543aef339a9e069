import { afterAll, beforeAll, expect, it } from 'vitest';
import { createRelayServer, type RelayServer } from '../../../relay/server.ts';
import { SqliteRelayStorage } from '../../../relay/sqlite-storage.ts';
import { TAKEN_KEY_MEMORY_MS } from '../../../relay/storage.ts';
import { waitFor } from '../../support/blob-http.ts';
import { connectAnonymous, registeredDevice, relayDataDir } from '../../support/relay-client.ts';
import { publishedKeysFor } from './fixtures.ts';

// The relay's sweep forgets a handed-out one-time key id TAKEN_KEY_MEMORY_MS
// after the fetch, not before: the relay runs in-process with an injected
// clock, and the test waits for sweeps it observes (the cutoffs they used),
// never for a duration.

const T0 = 1_800_000_000_000;
let clock = T0;
/** Cutoffs of the forgetTakenKeys calls that completed, in order. */
const swept: number[] = [];
let storage: SqliteRelayStorage;
let relay: RelayServer;
let url: string;

beforeAll(async () => {
  storage = SqliteRelayStorage.open(relayDataDir());
  const observed = Object.assign(Object.create(storage) as SqliteRelayStorage, {
    async forgetTakenKeys(cutoff: number, limit: number) {
      const forgotten = await storage.forgetTakenKeys(cutoff, limit);
      swept.push(cutoff);
      return forgotten;
    },
  });
  relay = createRelayServer({ storage: observed, now: () => clock, sweepIntervalMs: 100 });
  url = `ws://127.0.0.1:${await relay.listen(0)}/v2`;
});
afterAll(async () => {
  await relay.close();
  await storage.close();
});

/** Moves the clock and waits until a sweep ran with it. */
async function sweepAt(now: number): Promise<void> {
  clock = now;
  const cutoff = now - TAKEN_KEY_MEMORY_MS;
  await waitFor(() => swept.includes(cutoff), `a sweep with cutoff ${cutoff}`);
}

it('a handed-out id is ignored on re-publish until the sweep forgets it, TAKEN_KEY_MEMORY_MS after the fetch', async () => {
  const owner = await registeredDevice(url);
  const batch = publishedKeysFor(owner.device, 2);
  await owner.client.request({ type: 'keys.publish', keys: batch });
  const fetcher = await connectAnonymous(url);
  const fetched = await fetcher.request({
    type: 'keys.fetch',
    accountId: owner.device.accountId,
    deviceId: 1,
    token: owner.token,
  });
  expect(fetched).toMatchObject({ bundle: { preKey: batch.oneTimePreKeys[0] } });
  const held = async () => {
    await owner.client.request({ type: 'keys.publish', keys: batch });
    return await owner.client.request({ type: 'keys.status' });
  };
  // Exactly the window: taken at T0 is not before the cutoff T0, so it is remembered.
  await sweepAt(T0 + TAKEN_KEY_MEMORY_MS);
  expect(await held()).toMatchObject({ preKeyIds: [2], kyberPreKeyIds: [2] });
  await sweepAt(T0 + TAKEN_KEY_MEMORY_MS + 1);
  expect(await held()).toMatchObject({ preKeyIds: [2, 1], kyberPreKeyIds: [2, 1] });
  await Promise.all([owner.client.close(), fetcher.close()]);
});
