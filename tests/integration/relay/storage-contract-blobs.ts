import { randomBytes, randomUUID } from 'node:crypto';
import { expect } from 'vitest';
import { accountIdSchema, type AccountId } from '../../../shared/protocol/account-id.ts';
import { blobIdSchema } from '../../../shared/protocol/attachment.ts';
import type { NewBlob, RelayStorage } from '../../../relay/storage.ts';

// The blob part of the RelayStorage contract (storage-contract.ts registers
// these on every backend): rows, quota under concurrency, expiry.

const account = (): AccountId => accountIdSchema.parse(randomUUID());
const newBlob = (accountId: AccountId, length: number, expiresAt = 1_000_000): NewBlob => ({
  blobId: blobIdSchema.parse(randomBytes(16).toString('base64url')),
  accountId,
  storageKey: randomBytes(16).toString('hex'),
  tokenHash: randomBytes(32),
  length,
  expiresAt,
});

/** The blob cases, each run on a fresh store. */
export const BLOB_CONTRACT: readonly (readonly [
  string,
  (storage: RelayStorage) => Promise<void>,
])[] = [
  [
    'keeps a blob row, marks it complete, and knows nothing of other ids',
    async (storage) => {
      const blob = newBlob(account(), 1234);
      expect(await storage.createBlob(blob, 10_000, 0)).toBe('created');
      const stored = await storage.blob(blob.blobId);
      expect(stored).toMatchObject({
        storageKey: blob.storageKey,
        length: 1234,
        expiresAt: blob.expiresAt,
        complete: false,
      });
      expect(Buffer.from(stored?.tokenHash ?? [])).toEqual(Buffer.from(blob.tokenHash));
      await storage.completeBlob(blob.blobId);
      expect((await storage.blob(blob.blobId))?.complete).toBe(true);
      expect(await storage.blob(newBlob(account(), 1).blobId)).toBeUndefined();
    },
  ],
  [
    'counts declared lengths of unexpired blobs against the quota, per account, even when creates race',
    async (storage) => {
      const owner = account();
      const racing = Array.from({ length: 10 }, () => newBlob(owner, 300));
      const results = await Promise.all(racing.map((blob) => storage.createBlob(blob, 1000, 0)));
      expect(results.filter((r) => r === 'created')).toHaveLength(3);
      expect(await storage.createBlob(newBlob(owner, 101), 1000, 0)).toBe('over-quota');
      expect(await storage.createBlob(newBlob(owner, 100), 1000, 0)).toBe('created');
      expect(await storage.createBlob(newBlob(account(), 1000), 1000, 0)).toBe('created');
      // Once they expire they no longer count, swept or not.
      expect(await storage.createBlob(newBlob(owner, 1000, 5_000_000), 1000, 1_000_000)).toBe(
        'created',
      );
    },
  ],
  [
    'lists expired blobs in batches and deletes their rows',
    async (storage) => {
      const owner = account();
      const early = [newBlob(owner, 1, 10), newBlob(owner, 1, 20), newBlob(owner, 1, 30)];
      const late = newBlob(owner, 1, 100);
      for (const blob of [...early, late]) await storage.createBlob(blob, 1000, 0);
      const first = await storage.expiredBlobs(50, 2);
      expect(first.map((b) => b.blobId)).toEqual([early[0]!.blobId, early[1]!.blobId]);
      expect(first[0]?.storageKey).toBe(early[0]!.storageKey);
      await storage.deleteBlobs(first.map((b) => b.blobId));
      const rest = await storage.expiredBlobs(50, 10);
      expect(rest.map((b) => b.blobId)).toEqual([early[2]!.blobId]);
      await storage.deleteBlobs(rest.map((b) => b.blobId));
      expect(await storage.expiredBlobs(50, 10)).toEqual([]);
      expect(await storage.blob(early[0]!.blobId)).toBeUndefined();
      expect(await storage.blob(late.blobId)).toBeDefined();
      await storage.deleteBlobs([]);
    },
  ],
];
