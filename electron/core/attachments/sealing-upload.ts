import { SottoError } from '../errors.ts';
import { log } from '../log.ts';
import type { BlobUpload, BlobUploads } from '../sync/blobs.ts';
import { readChunks } from './file-chunks.ts';
import { UPLOAD_CHUNK_MS } from './upload-job.ts';

// Uploading while composing (docs/architecture.md#attachments): the upload
// starts as soon as the first sealed bytes are in the ciphertext temp file and
// follows it as it grows, never reading past what the seal has written. No
// row exists yet: the reservation is committed with the attachment's row once
// the seal is complete, and the upload job goes on from the relay's offset
// (HEAD), so the message is still queued only when the blob is complete (R2).
// A kill -9 before that commit leaves no message; the partial blob on the relay
// is an orphan its TTL deletes (counted in the account's quota until then).

/**
 * Most bytes per append while following the seal (the upload job's appends are
 * UPLOAD_CHUNK_BYTES). Each append is one relay fsync, and while it flushes the
 * upload stands still as the seal goes on: with 8 MiB appends the upload had
 * 48–56 % of a 100 MiB blob when the seal ended, with 32 MiB 96 % (the 1 s
 * bound still ends an append on a slow link, and a cut append keeps its prefix).
 */
export const EARLY_APPEND_BYTES = 32 * 1024 * 1024;

/** How far the seal has written the ciphertext temp file; the upload reads only below it. */
export class SealedLength {
  private length = 0;
  private ended = false;
  private failure: { readonly error: unknown } | undefined;
  private waiters: (() => void)[] = [];

  /** Records that the file holds `length` bytes now (FileSink.onWritten). */
  readonly advance = (length: number): void => {
    this.length = Math.max(this.length, length);
    this.wake();
  };

  /** Every byte is written. */
  finish(): void {
    this.ended = true;
    this.wake();
  }

  /** The seal failed or was cancelled: the upload stops with `error` at its next read. */
  fail(error: unknown): void {
    this.failure ??= { error };
    this.wake();
  }

  /** Whether the seal has ended, well or not. */
  get done(): boolean {
    return this.ended || this.failure !== undefined;
  }

  /** Throws the seal's failure, if any. */
  check(): void {
    if (this.failure) throw this.failure.error;
  }

  /** The written length once it is past `offset` (or the seal has ended); the seal's failure otherwise. */
  async past(offset: number): Promise<number> {
    for (;;) {
      this.check();
      if (this.length > offset || this.ended) return this.length;
      await new Promise<void>((resolve) => this.waiters.push(resolve));
    }
  }

  private wake(): void {
    for (const resolve of this.waiters.splice(0)) resolve();
  }
}

/** What the upload during the seal got: the reservation (to commit with the row) and the relay's last acknowledged offset. */
export interface EarlyUpload {
  readonly upload: BlobUpload;
  readonly offset: number;
}

/** An upload that follows a seal; `settle` once the seal has ended. */
export interface SealingUpload {
  /**
   * The reservation and offset, after the append in flight ends (it never
   * overlaps the upload job's); undefined when no reservation arrived before
   * the seal ended (a late one is left unused: an orphan the relay's TTL deletes)
   * or the relay refused (the upload job then tries as it always did).
   */
  settle(): Promise<EarlyUpload | undefined>;
}

/**
 * Reserves a blob of `length` bytes and appends the ciphertext at `path` as
 * `sealed` says it is written, EARLY_APPEND_BYTES or UPLOAD_CHUNK_MS per
 * append; it starts no append once the seal has ended. Never rejects: a relay failure only ends the early part.
 */
export function uploadWhileSealing(
  uploads: () => BlobUploads,
  path: string,
  length: number,
  sealed: SealedLength,
): SealingUpload {
  let reserved: BlobUpload | undefined;
  let offset = 0;
  const running = (async () => {
    const relay = uploads();
    const upload = await relay.create(length);
    if (sealed.done) return; // too late: the row is committed without it
    reserved = upload;
    while (offset < length) {
      await sealed.past(offset);
      if (sealed.done) return; // the upload job sends the rest once the row is committed
      const end = Math.min(offset + EARLY_APPEND_BYTES, length);
      const acknowledged = await relay.append(upload, offset, following(path, offset, end, sealed));
      // No progress, or more than was sent (a relay not to be believed): the upload job asks HEAD.
      if (acknowledged <= offset || acknowledged > end) return;
      offset = acknowledged;
    }
  })().catch((error: unknown) => {
    // The seal's own failure is the one compose reports; a relay's is the upload job's to meet again.
    if (!sealed.done) log.error('attachments.early_upload_stopped', error);
  });
  return {
    settle: async () => {
      if (!reserved) return undefined;
      await running;
      return { upload: reserved, offset };
    },
  };
}

/** Bytes [start, end) of the growing file, read only below the sealed length, for at most UPLOAD_CHUNK_MS. */
async function* following(
  path: string,
  start: number,
  end: number,
  sealed: SealedLength,
): AsyncGenerator<Buffer> {
  const deadline = Date.now() + UPLOAD_CHUNK_MS;
  let position = start;
  while (position < end) {
    const ready = Math.min(await sealed.past(position), end);
    if (ready <= position) return; // the seal ended here
    const from = position;
    for await (const chunk of readChunks(path, position, ready)) {
      sealed.check();
      yield chunk;
      position += chunk.length;
    }
    // Written bytes that cannot be read back: the seal failed under us (its error is the one reported).
    if (position === from) throw new SottoError('INTERNAL', 'sealed bytes not readable');
    if (Date.now() >= deadline) return;
  }
}
