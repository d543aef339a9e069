import { randomBytes } from 'node:crypto';
import { Readable } from 'node:stream';
import { expect, it } from 'vitest';
import { BlobOffsetMismatch, type BlobStore } from '../../relay/blobs/store.ts';

// The BlobStore contract (relay/blobs/store.ts), run against every store:
// tests/integration/relay/blob-store.test.ts (files) and s3-blob-store.test.ts
// (S3 on s3rver). Store-specific checks (file modes, parts, tails) stay there.

/** The whole of a stream. */
export async function readAll(stream: Readable): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const chunk of stream) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks);
}

/** A source that yields `chunks` and then fails, as a request whose client went away. */
export function cutSource(...chunks: Buffer[]): Readable {
  return Readable.from(
    (function* () {
      yield* chunks;
      throw new Error('client went away');
    })(),
  );
}

/** Registers the contract's cases in the current describe block; `open` gives a fresh store. */
export function blobStoreContract(open: () => Promise<BlobStore>): void {
  it('appends at the offset only, keeps at most maxBytes, reads ranges, deletes idempotently', async () => {
    const store = await open();
    const key = await store.create();
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
    await store.finish(key);
    await store.finish(key); // a retried finish (crash before the row was marked) is harmless
    expect(await store.size(key)).toBe(10_000);
    expect((await readAll(store.read(key, 0, 9999))).equals(bytes)).toBe(true);
    expect((await readAll(store.read(key, 5, 9))).equals(bytes.subarray(5, 10))).toBe(true);

    await store.delete(key);
    await store.delete(key);
    expect(await store.size(key)).toBe(0);
    // A swept blob is not brought back by a late append.
    await expect(store.append(key, 0, Readable.from([bytes]), 10)).rejects.toThrow();
    expect(await store.size(key)).toBe(0);
  });

  it('deletes an unfinished blob', async () => {
    const store = await open();
    const key = await store.create();
    await store.append(key, 0, Readable.from([randomBytes(1000)]), 5000);
    await store.delete(key);
    expect(await store.size(key)).toBe(0);
    await expect(store.append(key, 0, Readable.from([randomBytes(10)]), 10)).rejects.toThrow();
  });

  it('keeps what arrived before the source failed', async () => {
    const store = await open();
    const key = await store.create();
    const head = randomBytes(3000);
    expect(await store.append(key, 0, cutSource(head), 10_000)).toEqual({
      offset: 3000,
      overflowed: false,
    });
    // A source that failed before the store even looked at it: nothing written, nothing thrown.
    const gone = new Readable({ read() {} });
    gone.destroy(new Error('client went away'));
    expect(await store.append(key, 3000, gone, 10_000)).toEqual({
      offset: 3000,
      overflowed: false,
    });
    const rest = randomBytes(7000);
    expect(await store.append(key, 3000, Readable.from([rest]), 7000)).toEqual({
      offset: 10_000,
      overflowed: false,
    });
    await store.finish(key);
    expect((await readAll(store.read(key, 0, 9999))).equals(Buffer.concat([head, rest]))).toBe(
      true,
    );
  });

  it('never names anything but its own keys', async () => {
    const store = await open();
    for (const key of ['../relay.db', '..', '', 'A'.repeat(32), `${'a'.repeat(31)}/`])
      await expect(store.size(key)).rejects.toThrow('not a blob storage key');
  });
}
