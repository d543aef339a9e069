import { randomBytes } from 'node:crypto';
import { PassThrough, Readable } from 'node:stream';
import {
  AbortMultipartUploadCommand,
  CompleteMultipartUploadCommand,
  CreateMultipartUploadCommand,
  GetObjectCommand,
  HeadBucketCommand,
  HeadObjectCommand,
  S3Client,
  UploadPartCommand,
} from '@aws-sdk/client-s3';
import {
  emptyManifest,
  type Manifest,
  PART_BYTES,
  partBytes,
  sha256Hex,
  vouchedTail,
} from './s3-manifest.ts';
import { log } from '../log.ts';
import { blobObject, manifestObject, S3Manifests, tailObject } from './s3-layout.ts';
import { absent, S3Objects, status } from './s3-objects.ts';
import { BlobOffsetMismatch, type Appended, type BlobStore } from './store.ts';

// Blob bytes in an S3-compatible bucket (docs/relay-operations.md#blobs), for
// relay nodes that share no disk. A blob is one multipart upload of object
// `blobs/KEY`. Parts must be 5 MiB except the last while PATCH bodies come in
// any size, so each PATCH buffers up to one part in memory, uploads parts as
// they fill, and when it ends (or the client goes away) stores the rest as a
// small `uploads/KEY/tail` object; `uploads/KEY/manifest` records the upload
// id, the parts and the tail, and is what every node reads (ListParts is not
// relied on: not every S3-compatible server has it). finish uploads the tail
// as the last part and completes the upload. Object names and manifest
// reads: s3-layout.ts.

/** Where the bucket is and how to reach it. */
export interface S3BlobStoreOptions {
  readonly bucket: string;
  readonly region: string;
  /** An S3-compatible server's URL; AWS itself without one. */
  readonly endpoint?: string;
  /** Bucket in the path (`endpoint/bucket/key`), as most S3-compatible servers want. */
  readonly pathStyle: boolean;
  /** Static credentials; without them the SDK's chain (AWS_ACCESS_KEY_ID...) applies. */
  readonly credentials?: { readonly accessKeyId: string; readonly secretAccessKey: string };
}

/** Blobs as multipart uploads in one bucket. */
export class S3BlobStore implements BlobStore {
  private readonly objects: S3Objects;
  private readonly manifests: S3Manifests;

  private constructor(
    private readonly client: S3Client,
    private readonly bucket: string,
  ) {
    this.objects = new S3Objects(client, bucket);
    this.manifests = new S3Manifests(this.objects);
  }

  /** A client for the bucket, checked to be reachable (HeadBucket) before the relay listens. */
  static async open(options: S3BlobStoreOptions): Promise<S3BlobStore> {
    const client = new S3Client({
      region: options.region,
      forcePathStyle: options.pathStyle,
      ...(options.endpoint === undefined ? {} : { endpoint: options.endpoint }),
      ...(options.credentials === undefined ? {} : { credentials: options.credentials }),
      // Checksums only where S3 requires them: S3-compatible servers differ in the rest.
      requestChecksumCalculation: 'WHEN_REQUIRED',
      responseChecksumValidation: 'WHEN_REQUIRED',
    });
    await client.send(new HeadBucketCommand({ Bucket: options.bucket }));
    return new S3BlobStore(client, options.bucket);
  }

  async create(): Promise<string> {
    const key = randomBytes(16).toString('hex');
    const created = await this.client.send(
      new CreateMultipartUploadCommand({ Bucket: this.bucket, Key: blobObject(key) }),
    );
    if (created.UploadId === undefined) throw new Error('the S3 server gave no upload id');
    await this.manifests.write(key, emptyManifest(created.UploadId));
    return key;
  }

  async size(key: string): Promise<number> {
    const manifest = await this.manifests.read(key);
    if (manifest !== undefined) {
      const tail = vouchedTail(manifest, await this.objects.get(tailObject(key)));
      return partBytes(manifest) + (tail?.length ?? 0);
    }
    try {
      const head = await this.client.send(
        new HeadObjectCommand({ Bucket: this.bucket, Key: blobObject(key) }),
      );
      return head.ContentLength ?? 0;
    } catch (error) {
      if (absent(error)) return 0;
      throw error;
    }
  }

  async append(key: string, offset: number, source: Readable, maxBytes: number): Promise<Appended> {
    // As in the file store: errors of the source surface through its iterator.
    source.on('error', () => undefined);
    let manifest = await this.manifests.read(key);
    // No manifest: finished (all bytes already there) or deleted (swept).
    if (manifest === undefined) {
      const size = await this.size(key);
      if (size === 0) throw new Error('no such blob upload');
      if (size !== offset) throw new BlobOffsetMismatch(size);
      return { offset, overflowed: false };
    }
    const vouched = vouchedTail(manifest, await this.objects.get(tailObject(key)));
    const tail = vouched ?? Buffer.alloc(0);
    const durable = partBytes(manifest) + tail.length;
    if (durable !== offset) throw new BlobOffsetMismatch(durable);

    // One part's worth of bytes at most, starting with the tail read back.
    let pending: Buffer[] = tail.length > 0 ? [tail] : [];
    let pendingBytes = tail.length;
    let position = offset;
    let overflowed = false;
    const chunks = source[Symbol.asyncIterator]() as AsyncIterator<Buffer>;
    for (;;) {
      let next: IteratorResult<Buffer>;
      try {
        next = await chunks.next();
      } catch {
        break; // the client went away: what arrived is kept below
      }
      if (next.done === true) break;
      const take = Math.min(offset + maxBytes - position, next.value.length);
      let chunk = next.value.subarray(0, take);
      position += take;
      while (chunk.length > 0) {
        const room = PART_BYTES - pendingBytes;
        pending.push(chunk.subarray(0, room));
        pendingBytes += Math.min(room, chunk.length);
        chunk = chunk.subarray(room);
        if (pendingBytes === PART_BYTES) {
          // The request is not read while the part uploads: its socket window closes (backpressure).
          manifest = await this.uploadPart(key, manifest, Buffer.concat(pending));
          pending = [];
          pendingBytes = 0;
        }
      }
      if (take < next.value.length) {
        overflowed = true;
        break;
      }
    }
    const rest = Buffer.concat(pending);
    // Nothing new and a sound tail: nothing to write. A damaged tail is dropped from the manifest.
    if (position !== offset || vouched === undefined) {
      // The tail object first, then the manifest: a crash in between leaves a
      // manifest whose tail is a prefix of the object (or an older, empty one).
      if (rest.length > 0) await this.objects.put(tailObject(key), rest);
      manifest = { ...manifest, tail: rest.length, tailSha256: sha256Hex(rest) };
      await this.manifests.write(key, manifest);
    }
    return { offset: position, overflowed };
  }

  async finish(key: string): Promise<void> {
    const manifest = await this.manifests.read(key);
    // Finished before (a crash after completing, before the relay marked the row).
    if (manifest === undefined) return;
    const tail = vouchedTail(manifest, await this.objects.get(tailObject(key)));
    if (tail === undefined) throw new Error('the blob tail does not match its manifest');
    const parts = manifest.parts.map((part) => ({ PartNumber: part.number, ETag: part.etag }));
    // The last part may be short (or empty, for a blob whose size is a multiple of a part and has none).
    if (tail.length > 0 || parts.length === 0) {
      const number = parts.length + 1;
      parts.push({ PartNumber: number, ETag: await this.sendPart(key, manifest, number, tail) });
    }
    await this.client.send(
      new CompleteMultipartUploadCommand({
        Bucket: this.bucket,
        Key: blobObject(key),
        UploadId: manifest.uploadId,
        MultipartUpload: { Parts: parts },
      }),
    );
    await this.objects.remove(tailObject(key));
    await this.objects.remove(manifestObject(key));
  }

  read(key: string, start: number, end: number): Readable {
    const out = new PassThrough();
    this.client
      .send(
        new GetObjectCommand({
          Bucket: this.bucket,
          Key: blobObject(key),
          Range: `bytes=${start}-${end}`,
        }),
      )
      .then(
        (got) => {
          if (!(got.Body instanceof Readable)) throw new Error('no S3 object body');
          got.Body.on('error', (error: Error) => out.destroy(error));
          // The reader going away ends the S3 request too.
          out.on('close', () => (got.Body as Readable).destroy());
          got.Body.pipe(out);
        },
        (error: unknown) => out.destroy(error instanceof Error ? error : new Error('S3 read')),
      )
      .catch((error: unknown) =>
        out.destroy(error instanceof Error ? error : new Error('S3 read')),
      );
    return out;
  }

  async delete(key: string): Promise<void> {
    const manifest = await this.manifests.read(key);
    if (manifest !== undefined) {
      try {
        await this.client.send(
          new AbortMultipartUploadCommand({
            Bucket: this.bucket,
            Key: blobObject(key),
            UploadId: manifest.uploadId,
          }),
        );
      } catch (error) {
        // s3rver (and some other S3-compatible servers) have no
        // AbortMultipartUpload: the parts stay until the bucket's lifecycle
        // rule aborts incomplete uploads (docs/relay-operations.md#blobs).
        if (status(error) === 405 || status(error) === 501) log.warn('blob.s3_abort_unsupported');
        else if (!absent(error)) throw error;
      }
    }
    await this.objects.remove(blobObject(key));
    await this.objects.remove(tailObject(key));
    // The manifest last: until it is gone, a retried delete still finds the upload id.
    await this.objects.remove(manifestObject(key));
  }

  private async uploadPart(key: string, manifest: Manifest, bytes: Buffer): Promise<Manifest> {
    const number = manifest.parts.length + 1;
    const etag = await this.sendPart(key, manifest, number, bytes);
    // The tail went into this part. A crash before this write re-sends the part (same number).
    const next = {
      ...emptyManifest(manifest.uploadId),
      parts: [...manifest.parts, { number, etag, size: PART_BYTES }],
    };
    await this.manifests.write(key, next);
    return next;
  }

  private async sendPart(
    key: string,
    manifest: Manifest,
    number: number,
    bytes: Buffer,
  ): Promise<string> {
    const sent = await this.client.send(
      new UploadPartCommand({
        Bucket: this.bucket,
        Key: blobObject(key),
        UploadId: manifest.uploadId,
        PartNumber: number,
        Body: bytes,
        ContentLength: bytes.length,
      }),
    );
    if (sent.ETag === undefined) throw new Error('the S3 server gave no part ETag');
    return sent.ETag;
  }
}
