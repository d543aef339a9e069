import type { Readable } from 'node:stream';

// Where the relay keeps blob bytes (docs/relay-operations.md#blobs), behind an
// interface so a relay of several nodes without a shared disk can use an
// object store. The database (RelayStorage) holds what a blob is; this holds
// only bytes, under a storage key the store chose at create (random, never the
// blob id: the id is a capability and must not appear in a listing).
//
// The shape fits S3 multipart upload: create = CreateMultipartUpload (the key
// can carry the upload id), append = UploadPart of what arrived (a store may
// keep an unfinished part's bytes elsewhere and report only what is durable),
// size = the sum of completed parts, finish = CompleteMultipartUpload, read =
// a ranged GetObject, delete = AbortMultipartUpload or DeleteObject.

/** What one append did. */
export interface Appended {
  /** The durable offset afterwards: every byte before it survives a crash of the relay. */
  readonly offset: number;
  /** The source had more than `maxBytes`: the excess was not stored. */
  readonly overflowed: boolean;
}

/** The bytes of blobs. Keys are the store's own; callers never build them. */
export interface BlobStore {
  /** Makes room for a new, empty blob and returns its storage key. */
  create(): Promise<string>;
  /** Durable bytes of the blob (0 for a key whose bytes are gone). */
  size(key: string): Promise<number>;
  /**
   * Appends `source` at `offset`, which must be the current size
   * (BlobOffsetMismatch otherwise), storing at most `maxBytes`. If the source
   * fails midway (the client went away) what arrived is kept, made durable and
   * reported: the upload resumes from there.
   */
  append(key: string, offset: number, source: Readable, maxBytes: number): Promise<Appended>;
  /** Seals a blob once every byte arrived (a no-op for files). */
  finish(key: string): Promise<void>;
  /** The bytes from `start` to `end` inclusive. */
  read(key: string, start: number, end: number): Readable;
  /** Deletes a blob's bytes; a key already gone is fine. */
  delete(key: string): Promise<void>;
}

/** An append at an offset that is not the blob's size (another upload moved it). */
export class BlobOffsetMismatch extends Error {
  constructor(readonly actual: number) {
    super('the offset is not the blob size');
    this.name = 'BlobOffsetMismatch';
  }
}
