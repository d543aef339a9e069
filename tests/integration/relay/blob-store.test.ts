import { randomBytes, randomUUID } from 'node:crypto';
import { readdirSync, readFileSync, statSync, truncateSync } from 'node:fs';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import Database from '@signalapp/sqlcipher';
import { describe, expect, it } from 'vitest';
import { FileBlobStore } from '../../../relay/blobs/fs-store.ts';
import { SqliteRelayStorage } from '../../../relay/sqlite-storage.ts';
import { accountIdSchema } from '../../../shared/protocol/account-id.ts';
import { blobIdSchema } from '../../../shared/protocol/attachment.ts';
import { blobStoreContract } from '../../support/blob-store-contract.ts';
import { relayDataDir } from '../../support/relay-client.ts';

// The filesystem BlobStore (relay/blobs/fs-store.ts) on a real directory (the
// contract every store meets, then what is the file store's own), and
// the SQLite migration that adds blob rows to a relay database made before it.

describe('FileBlobStore', () => {
  blobStoreContract(() => FileBlobStore.open(join(relayDataDir(), 'blobs')));

  it('keeps its directory 0700 and files 0600, and deletes the file', async () => {
    const dir = join(relayDataDir(), 'blobs');
    const store = await FileBlobStore.open(dir);
    expect(statSync(dir).mode & 0o777).toBe(0o700);
    const key = await store.create();
    expect(key).toMatch(/^[0-9a-f]{32}$/);
    expect(statSync(join(dir, key)).mode & 0o777).toBe(0o600);
    await store.delete(key);
    expect(readdirSync(dir)).toEqual([]);
    // A swept blob's file is not brought back by a late append.
    await expect(store.append(key, 0, Readable.from([randomBytes(10)]), 10)).rejects.toThrow();
    expect(readdirSync(dir)).toEqual([]);
  });

  it('reports the size on disk as the truth', async () => {
    const store = await FileBlobStore.open(join(relayDataDir(), 'blobs'));
    const key = await store.create();
    await store.append(key, 0, Readable.from([randomBytes(3000)]), 10_000);
    // A torn tail (as after kill -9 before the fsync of a later write) is simply a shorter file.
    truncateSync(join(storeDir(store), key), 1234);
    expect(await store.size(key)).toBe(1234);
  });
});

describe('FileBlobStore batches socket chunks into 1 MiB writes', () => {
  /** Chunks as a request delivers them, then optionally a failure (the client gone). */
  function body(chunks: Buffer[], fail: boolean): Readable {
    return Readable.from(
      (async function* () {
        for (const chunk of chunks) yield chunk;
        await Promise.resolve();
        if (fail) throw new Error('client went away');
      })(),
    );
  }
  const chunks = Array.from({ length: 40 }, () => randomBytes(64 * 1024 + 7));
  const all = Buffer.concat(chunks);

  it('many small chunks past a batch: every byte at its offset, the offset reported', async () => {
    const dir = join(relayDataDir(), 'blobs');
    const store = await FileBlobStore.open(dir);
    const key = await store.create();
    const appended = await store.append(key, 0, body(chunks, false), all.length);
    expect(appended).toEqual({ offset: all.length, overflowed: false });
    expect(readFileSync(join(dir, key)).equals(all)).toBe(true);
  });

  it('a body longer than allowed, cut inside a batch: exactly the allowed prefix is kept', async () => {
    const dir = join(relayDataDir(), 'blobs');
    const store = await FileBlobStore.open(dir);
    const key = await store.create();
    const allowed = 1024 * 1024 + 12_345;
    const appended = await store.append(key, 0, body(chunks, false), allowed);
    expect(appended).toEqual({ offset: allowed, overflowed: true });
    expect(readFileSync(join(dir, key)).equals(all.subarray(0, allowed))).toBe(true);
  });

  it('a client that goes away mid-batch: what arrived is kept (durable) and reported', async () => {
    const dir = join(relayDataDir(), 'blobs');
    const store = await FileBlobStore.open(dir);
    const key = await store.create();
    const appended = await store.append(key, 0, body(chunks.slice(0, 20), true), all.length);
    const arrived = Buffer.concat(chunks.slice(0, 20));
    expect(appended).toEqual({ offset: arrived.length, overflowed: false });
    expect(readFileSync(join(dir, key)).equals(arrived)).toBe(true);
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
    old.exec('DROP TABLE blobs; DROP TABLE taken_one_time_keys; PRAGMA user_version = 2;');
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
