import { randomBytes, randomUUID } from 'node:crypto';
import { readdirSync, statSync, truncateSync } from 'node:fs';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import Database from '@signalapp/sqlcipher';
import { describe, expect, it } from 'vitest';
import { FileBlobStore } from '../../../relay/blobs/fs-store.ts';
import { BlobOffsetMismatch } from '../../../relay/blobs/store.ts';
import { SqliteRelayStorage } from '../../../relay/sqlite-storage.ts';
import { accountIdSchema } from '../../../shared/protocol/account-id.ts';
import { blobIdSchema } from '../../../shared/protocol/attachment.ts';
import { relayDataDir } from '../../support/relay-client.ts';

// The filesystem BlobStore (relay/blobs/fs-store.ts) on a real directory, and
// the SQLite migration that adds blob rows to a relay database made before it.

async function readAll(stream: Readable): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const chunk of stream) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks);
}

describe('FileBlobStore', () => {
  it('appends at the offset only, keeps at most maxBytes, reads ranges, deletes idempotently', async () => {
    const dir = join(relayDataDir(), 'blobs');
    const store = await FileBlobStore.open(dir);
    expect(statSync(dir).mode & 0o777).toBe(0o700);
    const key = await store.create();
    expect(key).toMatch(/^[0-9a-f]{32}$/);
    expect(statSync(join(dir, key)).mode & 0o777).toBe(0o600);
    expect(await store.size(key)).toBe(0);

    const bytes = randomBytes(10_000);
    const first = await store.append(key, 0, Readable.from([bytes.subarray(0, 4000)]), 10_000);
    expect(first).toEqual({ offset: 4000, overflowed: false });
    await expect(
      store.append(key, 3000, Readable.from([bytes.subarray(3000)]), 7000),
    ).rejects.toBeInstanceOf(BlobOffsetMismatch);
    expect(await store.size(key)).toBe(4000);
    // More than declared: the excess is dropped, never written.
    const extra = Buffer.concat([bytes.subarray(4000), randomBytes(77)]);
    const second = await store.append(key, 4000, Readable.from([extra]), 6000);
    expect(second).toEqual({ offset: 10_000, overflowed: true });
    expect(await store.size(key)).toBe(10_000);
    expect((await readAll(store.read(key, 0, 9999))).equals(bytes)).toBe(true);
    expect((await readAll(store.read(key, 5, 9))).equals(bytes.subarray(5, 10))).toBe(true);

    await store.delete(key);
    await store.delete(key);
    expect(await store.size(key)).toBe(0);
    expect(readdirSync(dir)).toEqual([]);
    // A swept blob's file is not brought back by a late append.
    await expect(store.append(key, 0, Readable.from([bytes]), 10)).rejects.toThrow();
    expect(readdirSync(dir)).toEqual([]);
  });

  it('keeps what arrived before the source failed, and reports the size on disk as the truth', async () => {
    const store = await FileBlobStore.open(join(relayDataDir(), 'blobs'));
    const key = await store.create();
    const broken = Readable.from(
      (function* () {
        yield randomBytes(3000);
        throw new Error('client went away');
      })(),
    );
    expect(await store.append(key, 0, broken, 10_000)).toEqual({ offset: 3000, overflowed: false });
    // A source that failed before the store even looked at it: nothing written, nothing thrown.
    const gone = new Readable({ read() {} });
    gone.destroy(new Error('client went away'));
    expect(await store.append(key, 3000, gone, 10_000)).toEqual({
      offset: 3000,
      overflowed: false,
    });
    // A torn tail (as after kill -9 before the fsync of a later write) is simply a shorter file.
    truncateSync(join(storeDir(store), key), 1234);
    expect(await store.size(key)).toBe(1234);
  });

  it('never builds a path from anything but its own keys', async () => {
    const store = await FileBlobStore.open(join(relayDataDir(), 'blobs'));
    for (const key of ['../relay.db', '..', '', 'A'.repeat(32), `${'a'.repeat(31)}/`])
      await expect(store.size(key)).rejects.toThrow('not a blob storage key');
  });
});

describe('relay.db blob migration', () => {
  it('adds the blob table to a database made before it, keeping its data and relay id', async () => {
    const dataDir = relayDataDir();
    const first = SqliteRelayStorage.open(dataDir);
    const relayId = first.relayId;
    await first.close();
    // As a relay before the blob migration left it.
    const old = new Database(join(dataDir, 'relay.db'));
    old.exec('DROP TABLE blobs; PRAGMA user_version = 2;');
    old.close();
    const storage = SqliteRelayStorage.open(dataDir);
    try {
      expect(storage.relayId).toBe(relayId);
      const blob = {
        blobId: blobIdSchema.parse(randomBytes(16).toString('base64url')),
        accountId: accountIdSchema.parse(randomUUID()),
        storageKey: randomBytes(16).toString('hex'),
        tokenHash: randomBytes(32),
        length: 5,
        expiresAt: 10,
      };
      expect(await storage.createBlob(blob, 100, 0)).toBe('created');
      expect((await storage.blob(blob.blobId))?.length).toBe(5);
    } finally {
      await storage.close();
    }
  });
});

/** The directory a store writes to (the test opened it, so it knows; kept out of the store's API). */
function storeDir(store: FileBlobStore): string {
  return Reflect.get(store, 'dir') as string;
}
