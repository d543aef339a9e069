import { expect } from 'vitest';
import type { RelayStorage } from '../../../relay/storage.ts';
import { newDevice } from '../../support/relay-client.ts';
import { publishedKeysFor } from './fixtures.ts';

// The handed-out-keys part of the RelayStorage contract (storage-contract.ts
// registers these on every backend): a one-time key the relay handed out is
// never handed out again, whatever a publish re-sends, until the sweep
// forgets its id (forgetTakenKeys).

/** Every one-time EC and Kyber id a device hands out until its stock is empty (at most `bound` takes). */
async function drain(
  storage: RelayStorage,
  device: { accountId: Parameters<RelayStorage['takeBundle']>[0] },
  now: number,
  bound = 50,
): Promise<{ ec: number[]; kyber: number[] }> {
  const ec: number[] = [];
  const kyber: number[] = [];
  for (let i = 0; i < bound; i++) {
    const bundle = (await storage.takeBundle(device.accountId, 1, now))?.bundle;
    if (!bundle?.preKey) break;
    ec.push(bundle.preKey.id);
    kyber.push(bundle.kyberPreKey.id);
  }
  return { ec, kyber };
}

/** The taken-key cases, each run on a fresh store. */
export const TAKEN_KEY_CONTRACT: readonly (readonly [
  string,
  (storage: RelayStorage) => Promise<void>,
])[] = [
  [
    'a re-published batch never brings back a key that was handed out, and counts only keys that can be',
    async (storage) => {
      const device = newDevice();
      const batch = publishedKeysFor(device, 3);
      expect(await storage.publishKeys(batch, 1, 3)).toBe('ok');
      const first = (await storage.takeBundle(device.accountId, 1, 2))?.bundle;
      expect([first?.preKey?.id, first?.kyberPreKey.id]).toEqual([1, 1]);
      // The answer to the first publish was lost: the client sends the same batch again.
      expect(await storage.publishKeys(batch, 3, 3)).toBe('ok');
      const counts = { preKeys: 2, kyberPreKeys: 2 };
      expect(await storage.oneTimeKeyCounts(device.accountId, 1)).toEqual(counts);
      expect(await storage.keyIds(device.accountId, 1)).toMatchObject({
        preKeyIds: [2, 3],
        kyberPreKeyIds: [2, 3],
      });
      // The cap counts live keys only: two held plus one new id fit a cap of 3.
      const withNew = { ...batch, oneTimePreKeys: [...batch.oneTimePreKeys] };
      withNew.oneTimePreKeys.push(...publishedKeysFor(device, 1, 4).oneTimePreKeys);
      expect(await storage.publishKeys(withNew, 4, 3)).toBe('ok');
      expect(await drain(storage, device, 5)).toEqual({ ec: [2, 3, 4], kyber: [2, 3, 0xffffff] });
      // Re-sent once more after every key went: nothing comes back.
      expect(await storage.publishKeys(withNew, 6, 3)).toBe('ok');
      expect(await storage.oneTimeKeyCounts(device.accountId, 1)).toEqual({
        preKeys: 0,
        kyberPreKeys: 0,
      });
      expect((await storage.takeBundle(device.accountId, 1, 7))?.bundle.preKey).toBeNull();
    },
  ],
  [
    'a taken id is remembered per device and per kind: the same id elsewhere is still stored',
    async (storage) => {
      const device = newDevice();
      const other = { ...device, deviceId: 2 };
      await storage.publishKeys(publishedKeysFor(device, 1), 1, 10);
      await storage.takeBundle(device.accountId, 1, 2);
      expect(await storage.publishKeys(publishedKeysFor(other, 1), 3, 10)).toBe('ok');
      expect(await storage.oneTimeKeyCounts(device.accountId, 2)).toEqual({
        preKeys: 1,
        kyberPreKeys: 1,
      });
      // Only the EC key 7 was handed out: a Kyber key 7 published later is new to the relay.
      await storage.publishKeys(
        { ...publishedKeysFor(device, 1, 7), oneTimeKyberPreKeys: [] },
        4,
        10,
      );
      const ecOnly = (await storage.takeBundle(device.accountId, 1, 5))?.bundle;
      expect([ecOnly?.preKey?.id, ecOnly?.kyberPreKey.id]).toEqual([7, 0xffffff]);
      expect(await storage.publishKeys(publishedKeysFor(device, 1, 7), 6, 10)).toBe('ok');
      expect(await storage.keyIds(device.accountId, 1)).toMatchObject({
        preKeyIds: [],
        kyberPreKeyIds: [7],
      });
    },
  ],
  [
    'the sweep forgets a taken id only once it was taken before the cutoff, in batches',
    async (storage) => {
      const device = newDevice();
      const batch = publishedKeysFor(device, 3);
      await storage.publishKeys(batch, 1, 10);
      await drain(storage, device, 1_000);
      // Taken at 1000: a cutoff of 1000 is not after it, so all three ids (two kinds) stay.
      expect(await storage.forgetTakenKeys(1_000, 100)).toBe(0);
      await storage.publishKeys(batch, 1_001, 10);
      expect((await storage.oneTimeKeyCounts(device.accountId, 1))?.preKeys).toBe(0);
      expect(await storage.forgetTakenKeys(1_001, 4)).toBe(4);
      expect(await storage.forgetTakenKeys(1_001, 4)).toBe(2);
      expect(await storage.forgetTakenKeys(1_001, 4)).toBe(0);
      // Forgotten: the ids are new to the relay again.
      await storage.publishKeys(batch, 1_002, 10);
      expect(await storage.oneTimeKeyCounts(device.accountId, 1)).toEqual({
        preKeys: 3,
        kyberPreKeys: 3,
      });
    },
  ],
  [
    'a move deletes every key and every taken id of the account',
    async (storage) => {
      const device = newDevice();
      await storage.bindIdentityKey(device.accountId, device.identity.publicKey.serialize(), 1);
      await storage.publishKeys(publishedKeysFor(device, 3), 1, 10);
      await storage.takeBundle(device.accountId, 1, 2);
      await storage.markMoved(device.accountId, 3);
      expect(await storage.takeBundle(device.accountId, 1, 4)).toBeUndefined();
      expect(await storage.forgetTakenKeys(Number.MAX_SAFE_INTEGER, 100)).toBe(0);
    },
  ],
  [
    'concurrent fetchers while the owner re-sends its batch never receive one key twice',
    async (storage) => {
      const device = newDevice();
      const batch = publishedKeysFor(device, 60);
      await storage.publishKeys(batch, 1, 100);
      let fetching = true;
      const republish = (async () => {
        let sent = 0;
        while (fetching || sent === 0) {
          expect(await storage.publishKeys(batch, 2, 100)).toBe('ok');
          sent += 1;
        }
        return sent;
      })();
      const taken = await Promise.all(
        Array.from({ length: 8 }, async () => (await drain(storage, device, 3, 20)).ec),
      );
      fetching = false;
      expect(await republish).toBeGreaterThan(0);
      const rest = (await drain(storage, device, 4, 100)).ec;
      const all = [...taken.flat(), ...rest];
      expect(all.sort((a, b) => a - b)).toEqual(Array.from({ length: 60 }, (_, i) => i + 1));
    },
  ],
];
