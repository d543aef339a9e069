import { randomBytes, randomUUID } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { accountIdSchema, type AccountId } from '../../../shared/protocol/account-id.ts';
import type { Mailbox, NewEnvelope, RelayStorage, StoreResult } from '../../../relay/storage.ts';
import { newDevice } from '../../support/relay-client.ts';
import { publishedKeysFor } from './fixtures.ts';
import { BLOB_CONTRACT } from './storage-contract-blobs.ts';
import { TAKEN_KEY_CONTRACT } from './storage-contract-taken-keys.ts';

// The RelayStorage contract (relay/storage.ts), one suite for every backend:
// storage-contract.test.ts runs it on SQLite (in-thread and in its worker) and
// on PostgreSQL. Not a test file itself (vitest runs *.test.ts only).

/** A fresh, empty store of one backend. */
export type OpenStorage = () => Promise<RelayStorage>;

const LIMITS = { mailboxQuota: 1_000_000, maxStorageBytes: 1e12 };

const account = (): AccountId => accountIdSchema.parse(randomUUID());
const mailboxOf = (deviceId = 1): Mailbox => ({ accountId: account(), deviceId });
const envelope = (to: Mailbox, receivedAt = 1, bytes = 100): NewEnvelope => ({
  clientMessageId: randomUUID(),
  to,
  body: randomBytes(bytes),
  receivedAt,
});
/** The id a store answered (throws for a refusal). */
const idOf = (result: StoreResult | undefined): string => {
  if (result?.kind !== 'stored' && result?.kind !== 'duplicate') throw new Error('not stored');
  return result.envelopeId;
};
const ids = (results: readonly StoreResult[]): (string | undefined)[] =>
  results.map((r) => (r.kind === 'stored' || r.kind === 'duplicate' ? r.envelopeId : undefined));

/** Registers the contract's tests for one backend. */
export function describeStorageContract(backend: string, open: OpenStorage): void {
  describe(`RelayStorage contract: ${backend}`, () => {
    const withStorage = (name: string, body: (storage: RelayStorage) => Promise<void>) =>
      it(name, async () => {
        const storage = await open();
        try {
          await body(storage);
        } finally {
          await storage.close();
        }
      });

    withStorage('has a relay id made with its data: 22 base64url characters', async (storage) => {
      expect(storage.relayId).toMatch(/^[A-Za-z0-9_-]{22}$/);
      // Made once: every handle on the same data reports the same id.
      expect((await storage.account(account())) === undefined).toBe(true);
    });

    withStorage(
      'binds an identity key once: the first writer wins, even when many race',
      async (storage) => {
        const id = account();
        expect(await storage.account(id)).toBeUndefined();
        const keys = Array.from({ length: 8 }, () => randomBytes(33));
        const bound = await Promise.all(keys.map((key, i) => storage.bindIdentityKey(id, key, i)));
        const winner = bound[0]!;
        expect(keys.some((key) => Buffer.from(key).equals(Buffer.from(winner)))).toBe(true);
        for (const key of bound) expect(Buffer.from(key)).toEqual(Buffer.from(winner));
        const record = await storage.account(id);
        expect(Buffer.from(record?.identityKey ?? [])).toEqual(Buffer.from(winner));
        expect(record).toMatchObject({ tokenHash: undefined, moved: false });
      },
    );

    withStorage(
      'keeps the token hash, and after a move keeps it but drops every key',
      async (storage) => {
        const device = newDevice();
        const id = device.accountId;
        await storage.bindIdentityKey(id, randomBytes(33), 1);
        const hash = randomBytes(32);
        await storage.setTokenHash(id, hash);
        expect(Buffer.from((await storage.account(id))?.tokenHash ?? [])).toEqual(hash);
        expect(await storage.publishKeys(publishedKeysFor(device, 3), 1, 100)).toBe('ok');
        await storage.markMoved(id, 2);
        const moved = await storage.account(id);
        expect(moved?.moved).toBe(true);
        expect(Buffer.from(moved?.tokenHash ?? [])).toEqual(hash);
        expect(await storage.takeBundle(id, 1, 1)).toBeUndefined();
        expect(await storage.oneTimeKeyCounts(id, 1)).toBeUndefined();
        // A publish of the old device still on its way stores nothing (its keys would outlive the move).
        expect(await storage.publishKeys(publishedKeysFor(device, 2, 10), 3, 100)).toBe('moved');
        expect(await storage.oneTimeKeyCounts(id, 1)).toBeUndefined();
        expect(await storage.keyIds(id, 1)).toMatchObject({ preKeyIds: [], signedPreKeyId: null });
      },
    );

    withStorage(
      'hands out the oldest one-time keys first, then the last-resort Kyber key and no EC key',
      async (storage) => {
        const device = newDevice();
        expect(await storage.takeBundle(device.accountId, 1, 1)).toBeUndefined();
        const keys = publishedKeysFor(device, 2, 50);
        expect(await storage.publishKeys(keys, 1, 100)).toBe('ok');
        // Ids published later but smaller still come after: publication order, not id order.
        expect(await storage.publishKeys(publishedKeysFor(device, 1, 1), 2, 100)).toBe('ok');
        const first = await storage.takeBundle(device.accountId, 1, 1);
        expect(first?.bundle.preKey?.id).toBe(50);
        expect(first?.bundle.kyberPreKey.id).toBe(50);
        expect(first?.remaining).toEqual({ preKeys: 2, kyberPreKeys: 2 });
        expect((await storage.takeBundle(device.accountId, 1, 1))?.bundle.preKey?.id).toBe(51);
        expect((await storage.takeBundle(device.accountId, 1, 1))?.bundle.preKey?.id).toBe(1);
        const empty = await storage.takeBundle(device.accountId, 1, 1);
        expect(empty?.bundle.preKey).toBeNull();
        expect(empty?.bundle.kyberPreKey.id).toBe(0xffffff);
        expect(empty?.remaining).toEqual({ preKeys: 0, kyberPreKeys: 0 });
      },
    );

    withStorage(
      'a known key id is ignored on publish, and over the cap nothing at all is stored',
      async (storage) => {
        const device = newDevice();
        const keys = publishedKeysFor(device, 3);
        expect(await storage.publishKeys(keys, 1, 5)).toBe('ok');
        expect(await storage.publishKeys(keys, 2, 5)).toBe('ok');
        expect(await storage.oneTimeKeyCounts(device.accountId, 1)).toEqual({
          preKeys: 3,
          kyberPreKeys: 3,
        });
        const tooMany = { ...publishedKeysFor(device, 3, 10), registrationId: 4321 };
        expect(await storage.publishKeys(tooMany, 3, 5)).toBe('too-many-keys');
        const held = await storage.keyIds(device.accountId, 1);
        expect(held).toEqual({
          preKeyIds: [1, 2, 3],
          kyberPreKeyIds: [1, 2, 3],
          signedPreKeyId: 1,
          lastResortKyberPreKeyId: 0xffffff,
        });
        expect((await storage.takeBundle(device.accountId, 1, 1))?.bundle.registrationId).toBe(
          1234,
        );
        expect(await storage.keyIds(newDevice().accountId, 1)).toEqual({
          preKeyIds: [],
          kyberPreKeyIds: [],
          signedPreKeyId: null,
          lastResortKyberPreKeyId: null,
        });
      },
    );

    withStorage(
      '16 concurrent fetchers never receive the same one-time key twice',
      async (storage) => {
        const device = newDevice();
        const stock = 200;
        await storage.publishKeys(publishedKeysFor(device, stock), 1, 10_000);
        const taken = (
          await Promise.all(
            Array.from({ length: 16 }, async () => {
              const got: number[] = [];
              for (let i = 0; i < stock / 16 + 2; i++) {
                const bundle = (await storage.takeBundle(device.accountId, 1, 1))?.bundle;
                if (bundle?.preKey) got.push(bundle.preKey.id);
              }
              return got;
            }),
          )
        ).flat();
        expect(taken).toHaveLength(stock);
        expect(new Set(taken).size).toBe(stock);
        expect(await storage.oneTimeKeyCounts(device.accountId, 1)).toEqual({
          preKeys: 0,
          kyberPreKeys: 0,
        });
      },
    );

    withStorage(
      'stores envelopes byte for byte and lists them in arrival order after a cursor',
      async (storage) => {
        const box = mailboxOf();
        const sent = Array.from({ length: 5 }, (_, i) => envelope(box, 1000 + i, 10 + i));
        const results = await storage.storeEnvelopes(sent, LIMITS);
        expect(results.map((r) => r.kind)).toEqual(Array(5).fill('stored'));
        const listed = await storage.listQueued(box, 0, 10);
        expect(listed.map((e) => e.id)).toEqual(ids(results));
        expect(listed.map((e) => Buffer.from(e.body))).toEqual(
          sent.map((e) => Buffer.from(e.body)),
        );
        expect(listed.map((e) => e.receivedAt)).toEqual([1000, 1001, 1002, 1003, 1004]);
        // A seq the store tells (PostgreSQL, migration 6) is the row's: a push from memory relies on it.
        const told = results.map((r) => (r.kind === 'stored' ? r.seq : undefined));
        if (told.some((seq) => seq !== undefined)) expect(told).toEqual(listed.map((e) => e.seq));
        const after = await storage.listQueued(box, listed[1]!.seq, 2);
        expect(after.map((e) => e.id)).toEqual(ids(results).slice(2, 4));
        expect(await storage.listQueued(mailboxOf(), 0, 10)).toEqual([]);
      },
    );

    withStorage(
      'a store carrying a token hash checks it first: wrong, unknown or moved refuse that envelope only',
      async (storage) => {
        const [alice, bob] = [mailboxOf(), mailboxOf()];
        const hash = randomBytes(32);
        for (const box of [alice, bob]) {
          await storage.bindIdentityKey(box.accountId, randomBytes(33), 1);
          await storage.setTokenHash(box.accountId, hash);
        }
        await storage.markMoved(bob.accountId, 2);
        const queued = envelope(alice);
        await storage.storeEnvelopes([queued], LIMITS);
        const results = await storage.storeEnvelopes(
          [
            { ...envelope(alice), tokenHash: hash },
            // A wrong token on a queued clientMessageId: refused, not told it is queued.
            { ...queued, tokenHash: randomBytes(32) },
            { ...envelope(bob), tokenHash: hash },
            { ...envelope(mailboxOf()), tokenHash: hash },
            { ...queued, tokenHash: hash },
          ],
          LIMITS,
        );
        expect(results.map((r) => r.kind)).toEqual([
          'stored',
          'bad-token',
          'moved',
          'bad-token',
          'duplicate',
        ]);
        expect(await storage.countQueued(alice)).toBe(2);
        expect(await storage.countQueued(bob)).toBe(0);
      },
    );

    withStorage(
      'a resubmit while queued answers the first id; the same id in another mailbox or after the ack is new',
      async (storage) => {
        const [a, b] = [mailboxOf(), mailboxOf()];
        const first = envelope(a);
        const [stored] = await storage.storeEnvelopes([first], LIMITS);
        const again = await storage.storeEnvelopes(
          [
            { ...first, body: randomBytes(5) },
            { ...first, to: b },
          ],
          LIMITS,
        );
        expect(again[0]).toEqual({ kind: 'duplicate', envelopeId: idOf(stored) });
        expect(again[1]?.kind).toBe('stored');
        expect(await storage.countQueued(a)).toBe(1);
        // Within one call too.
        const twice = await storage.storeEnvelopes(
          [envelope(b), envelope(b)].map((e, _, all) => ({
            ...e,
            clientMessageId: all[0]!.clientMessageId,
          })),
          LIMITS,
        );
        expect(twice.map((r) => r.kind)).toEqual(['stored', 'duplicate']);
        await storage.deleteAcked(a, [idOf(stored)]);
        expect((await storage.storeEnvelopes([first], LIMITS))[0]?.kind).toBe('stored');
      },
    );

    withStorage('concurrent resubmits of one envelope store it once', async (storage) => {
      const box = mailboxOf();
      const one = envelope(box);
      const results = (
        await Promise.all(
          Array.from({ length: 12 }, async (_, i) => {
            await new Promise((resolve) => setTimeout(resolve, i % 3));
            return await storage.storeEnvelopes([one], LIMITS);
          }),
        )
      ).flat();
      expect(new Set(ids(results)).size).toBe(1);
      expect(results.filter((r) => r.kind === 'stored')).toHaveLength(1);
      expect(await storage.countQueued(box)).toBe(1);
    });

    withStorage(
      'the mailbox quota and the storage budget are checked per envelope',
      async (storage) => {
        const [a, b] = [mailboxOf(), mailboxOf()];
        const results = await storage.storeEnvelopes(
          [envelope(a), envelope(a), envelope(a), envelope(b, 1, 251)],
          { mailboxQuota: 2, maxStorageBytes: 450 },
        );
        expect(results.map((r) => r.kind)).toEqual([
          'stored',
          'stored',
          'mailbox-full',
          'storage-full',
        ]);
        expect(await storage.listQueued(b, 0, 10)).toEqual([]);
        // An ack frees room again.
        await storage.deleteAcked(a, ids(results).slice(0, 1) as string[]);
        const [later] = await storage.storeEnvelopes([envelope(b, 1, 150)], {
          mailboxQuota: 2,
          maxStorageBytes: 450,
        });
        expect(later?.kind).toBe('stored');
      },
    );

    withStorage(
      'concurrent senders into one mailbox: every envelope once, in a gapless increasing order',
      async (storage) => {
        const box = mailboxOf();
        const senders = await Promise.all(
          Array.from({ length: 8 }, async () => {
            const mine: string[] = [];
            for (let i = 0; i < 25; i++) {
              const [result] = await storage.storeEnvelopes([envelope(box)], LIMITS);
              mine.push(idOf(result));
            }
            return mine;
          }),
        );
        const listed = await storage.listQueued(box, 0, 1000);
        expect(listed).toHaveLength(200);
        expect(new Set(listed.map((e) => e.id))).toEqual(new Set(senders.flat()));
        const seqs = listed.map((e) => e.seq);
        expect(seqs).toEqual([...seqs].sort((x, y) => x - y));
        expect(new Set(seqs).size).toBe(200);
        // Each sender's envelopes keep that sender's order.
        const position = new Map(listed.map((e, i) => [e.id, i]));
        for (const mine of senders) {
          const at = mine.map((id) => position.get(id)!);
          expect(at).toEqual([...at].sort((x, y) => x - y));
        }
        expect(await storage.countQueued(box)).toBe(200);
      },
    );

    withStorage(
      "acks delete only the mailbox's own envelopes; a foreign id refuses the whole ack",
      async (storage) => {
        const [a, b] = [mailboxOf(), mailboxOf(2)];
        const ra = await storage.storeEnvelopes([envelope(a), envelope(a)], LIMITS);
        const rb = await storage.storeEnvelopes([envelope(b)], LIMITS);
        expect(await storage.deleteAcked(a, [idOf(ra[0]), idOf(rb[0])])).toEqual({
          kind: 'forbidden',
        });
        expect(await storage.countQueued(a)).toBe(2);
        expect(await storage.countQueued(b)).toBe(1);
        expect(await storage.deleteAcked(a, [idOf(ra[0]), 'unknown-id'])).toEqual({
          kind: 'deleted',
          count: 1,
        });
        // Acks are idempotent.
        expect(await storage.deleteAcked(a, [idOf(ra[0])])).toEqual({
          kind: 'deleted',
          count: 0,
        });
        expect((await storage.listQueued(a, 0, 10)).map((e) => e.id)).toEqual([idOf(ra[1])]);
        expect(await storage.countQueued(mailboxOf())).toBe(0);
      },
    );

    withStorage(
      'expiry deletes in batches of the given size, oldest first, and keeps the counters',
      async (storage) => {
        const box = mailboxOf();
        await storage.storeEnvelopes(
          Array.from({ length: 25 }, (_, i) => envelope(box, 100 + i)),
          LIMITS,
        );
        expect(await storage.expireBefore(120, 10)).toBe(10);
        expect((await storage.listQueued(box, 0, 1))[0]?.receivedAt).toBe(110);
        expect(await storage.expireBefore(120, 10)).toBe(10);
        expect(await storage.expireBefore(120, 10)).toBe(0);
        expect(await storage.countQueued(box)).toBe(5);
        // Freed bytes count: the budget admits what expiry made room for.
        const [stored] = await storage.storeEnvelopes([envelope(mailboxOf(), 1, 100)], {
          mailboxQuota: 100,
          maxStorageBytes: 600,
        });
        expect(stored?.kind).toBe('stored');
      },
    );

    withStorage(
      'devicesOf lists the published devices of the asked accounts with their registration ids, and none once an account moved',
      async (storage) => {
        const alice = newDevice();
        const bob = newDevice();
        for (const device of [alice, { ...alice, deviceId: 3 }, bob]) {
          await storage.bindIdentityKey(device.accountId, device.identity.publicKey.serialize(), 1);
          expect(await storage.publishKeys(publishedKeysFor(device, 0), 1, 200)).toBe('ok');
        }
        const sorted = (list: Awaited<ReturnType<RelayStorage['devicesOf']>>) =>
          [...list].sort((x, y) => x.deviceId - y.deviceId);
        expect(sorted(await storage.devicesOf([alice.accountId, account()]))).toEqual([
          { accountId: alice.accountId, deviceId: 1, registrationId: 1234 },
          { accountId: alice.accountId, deviceId: 3, registrationId: 1234 },
        ]);
        expect(await storage.devicesOf([])).toEqual([]);
        await storage.markMoved(alice.accountId, 2);
        expect(await storage.devicesOf([alice.accountId, bob.accountId])).toEqual([
          { accountId: bob.accountId, deviceId: 1, registrationId: 1234 },
        ]);
      },
    );

    withStorage(
      'movedAmong names, of the asked accounts, only those that moved (unknown ones are not moved)',
      async (storage) => {
        const [stays, moves, unknown] = [newDevice(), newDevice(), account()];
        for (const device of [stays, moves])
          await storage.bindIdentityKey(device.accountId, device.identity.publicKey.serialize(), 1);
        expect(await storage.movedAmong([stays.accountId, moves.accountId, unknown])).toEqual([]);
        await storage.markMoved(moves.accountId, 2);
        expect(await storage.movedAmong([stays.accountId, moves.accountId, unknown])).toEqual([
          moves.accountId,
        ]);
        expect(await storage.movedAmong([stays.accountId])).toEqual([]);
        expect(await storage.movedAmong([])).toEqual([]);
      },
    );

    for (const [name, body] of BLOB_CONTRACT) withStorage(name, body);
    for (const [name, body] of TAKEN_KEY_CONTRACT) withStorage(name, body);
  });
}
