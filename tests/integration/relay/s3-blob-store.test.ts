import { randomBytes } from 'node:crypto';
import { Readable } from 'node:stream';
import { DeleteObjectCommand, GetObjectCommand, PutObjectCommand } from '@aws-sdk/client-s3';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { PART_BYTES } from '../../../relay/blobs/s3-manifest.ts';
import { S3BlobStore } from '../../../relay/blobs/s3-store.ts';
import { blobStoreContract, cutSource, readAll } from '../../support/blob-store-contract.ts';
import { startTestS3, TEST_S3_ENV, type TestS3 } from '../../support/s3.ts';

// The S3 BlobStore (relay/blobs/s3-store.ts) against s3rver, a local
// S3-compatible server, over a real socket: the contract every store meets,
// then parts and tails: bodies of any size cut into 5 MiB parts, tails resumed
// by another node (another store instance), and damaged tails.

let s3: TestS3;
beforeAll(async () => {
  s3 = await startTestS3();
});
afterAll(async () => {
  await s3.stop();
});

function open(): Promise<S3BlobStore> {
  return S3BlobStore.open({
    bucket: s3.bucket,
    region: 'us-east-1',
    endpoint: s3.endpoint,
    pathStyle: true,
    credentials: {
      accessKeyId: TEST_S3_ENV.AWS_ACCESS_KEY_ID,
      secretAccessKey: TEST_S3_ENV.AWS_SECRET_ACCESS_KEY,
    },
  });
}

async function manifestOf(key: string): Promise<{ uploadId: string; tail: number }> {
  const got = await s3.client.send(
    new GetObjectCommand({ Bucket: s3.bucket, Key: `uploads/${key}/manifest` }),
  );
  return JSON.parse(await got.Body!.transformToString()) as { uploadId: string; tail: number };
}

/** A source of `bytes` in pieces of the given sizes (the rest in one). */
function pieces(bytes: Buffer, sizes: number[]): Readable {
  const out: Buffer[] = [];
  let at = 0;
  for (const size of sizes) {
    out.push(bytes.subarray(at, at + size));
    at += size;
  }
  if (at < bytes.length) out.push(bytes.subarray(at));
  return Readable.from(out);
}

describe('S3BlobStore', () => {
  blobStoreContract(open);

  it('refuses to open a bucket that does not exist', async () => {
    await expect(
      S3BlobStore.open({
        bucket: 'no-such-bucket',
        region: 'us-east-1',
        endpoint: s3.endpoint,
        pathStyle: true,
      }),
    ).rejects.toThrow();
  });

  it('cuts appends of odd sizes into parts, resumes a tail on another node, completes', async () => {
    const [a, b] = [await open(), await open()];
    const bytes = randomBytes(12 * 1024 * 1024 + 3);
    const key = await a.create();
    // 1 byte, then 5 MiB - 1 (a part fills exactly), then 5 MiB + 1 in 3 pieces.
    expect((await a.append(key, 0, pieces(bytes.subarray(0, 1), []), bytes.length)).offset).toBe(1);
    expect(await b.size(key)).toBe(1);
    let offset = (
      await b.append(key, 1, pieces(bytes.subarray(1, PART_BYTES), []), bytes.length - 1)
    ).offset;
    expect(offset).toBe(PART_BYTES);
    expect((await manifestOf(key)).tail).toBe(0);
    const next = bytes.subarray(offset, offset + PART_BYTES + 1);
    offset = (
      await a.append(key, offset, pieces(next, [7, 3 * 1024 * 1024]), bytes.length - offset)
    ).offset;
    expect(offset).toBe(2 * PART_BYTES + 1);
    expect((await manifestOf(key)).tail).toBe(1);
    // Cut midway on node B: what arrived is durable and node A sees it.
    const cut = bytes.subarray(offset, offset + 1_000_000);
    offset = (await b.append(key, offset, cutSource(cut), bytes.length - offset)).offset;
    expect(offset).toBe(2 * PART_BYTES + 1 + 1_000_000);
    expect(await a.size(key)).toBe(offset);
    const end = await a.append(
      key,
      offset,
      pieces(bytes.subarray(offset), [1]),
      bytes.length - offset,
    );
    expect(end).toEqual({ offset: bytes.length, overflowed: false });
    await b.finish(key);
    expect(await a.size(key)).toBe(bytes.length);
    expect((await readAll(a.read(key, 0, bytes.length - 1))).equals(bytes)).toBe(true);
    const [from, to] = [PART_BYTES - 10, 2 * PART_BYTES + 10];
    expect((await readAll(b.read(key, from, to))).equals(bytes.subarray(from, to + 1))).toBe(true);
    // Only the object is left: no manifest, no tail.
    expect((await s3.keys()).filter((name) => name.includes(key))).toEqual([`blobs/${key}`]);
    await a.delete(key);
    expect((await s3.keys()).filter((name) => name.includes(key))).toEqual([]);
  });

  it('completes a blob that is exactly one part, and one that is a single byte', async () => {
    const store = await open();
    for (const length of [PART_BYTES, 1]) {
      const bytes = randomBytes(length);
      const key = await store.create();
      expect((await store.append(key, 0, Readable.from([bytes]), length)).offset).toBe(length);
      await store.finish(key);
      expect((await readAll(store.read(key, 0, length - 1))).equals(bytes)).toBe(true);
    }
  });

  it('reports only the parts when the tail object is missing, shorter or different', async () => {
    const store = await open();
    const bytes = randomBytes(PART_BYTES + 5000);
    for (const damage of ['missing', 'shorter', 'different'] as const) {
      const key = await store.create();
      await store.append(key, 0, Readable.from([bytes]), bytes.length + 100);
      expect(await store.size(key)).toBe(bytes.length);
      const tailKey = `uploads/${key}/tail`;
      const body =
        damage === 'missing'
          ? undefined
          : damage === 'shorter'
            ? bytes.subarray(PART_BYTES, PART_BYTES + 10)
            : randomBytes(5000);
      if (body === undefined)
        await s3.client.send(new DeleteObjectCommand({ Bucket: s3.bucket, Key: tailKey }));
      else
        await s3.client.send(new PutObjectCommand({ Bucket: s3.bucket, Key: tailKey, Body: body }));
      // Never the damaged bytes: the durable size is the parts, and the upload resumes there.
      expect(await store.size(key)).toBe(PART_BYTES);
      await expect(store.append(key, bytes.length, Readable.from([]), 100)).rejects.toMatchObject({
        actual: PART_BYTES,
      });
      await expect(store.finish(key)).rejects.toThrow('does not match');
      const rest = bytes.subarray(PART_BYTES);
      expect((await store.append(key, PART_BYTES, Readable.from([rest]), rest.length)).offset).toBe(
        bytes.length,
      );
      await store.finish(key);
      expect((await readAll(store.read(key, 0, bytes.length - 1))).equals(bytes)).toBe(true);
      await store.delete(key);
    }
  });

  it('refuses a manifest that is not one, rather than guessing', async () => {
    const store = await open();
    const key = await store.create();
    await s3.client.send(
      new PutObjectCommand({
        Bucket: s3.bucket,
        Key: `uploads/${key}/manifest`,
        Body: '{"parts":7}',
      }),
    );
    await expect(store.size(key)).rejects.toThrow();
  });

  it('deletes an unfinished blob with parts: no object of it is left', async () => {
    const store = await open();
    const key = await store.create();
    await store.append(key, 0, Readable.from([randomBytes(PART_BYTES + 1)]), PART_BYTES + 1);
    expect((await s3.keys()).filter((name) => name.includes(key))).toHaveLength(2);
    // s3rver has no AbortMultipartUpload (405): the store goes on and removes the rest.
    await store.delete(key);
    expect((await s3.keys()).filter((name) => name.includes(key))).toEqual([]);
    expect(await store.size(key)).toBe(0);
  });
});
