import { log } from '../log.ts';
import type { BlobUpload, BlobUploads } from '../sync/blobs.ts';
import type { SealedStream } from './sealed-stream.ts';
import { UPLOAD_CHUNK_MS } from './upload-job.ts';

// Uploading while composing (docs/architecture.md#upload-while-sealing): the
// upload takes the transport blob's bytes straight from the seal (sealed-stream.ts,
// bounded, no temp file) and goes on once the seal has ended until the blob is
// complete or it had to stop. No row exists yet: the reservation is committed
// with the attachment's row after that, and the upload job asks the relay's
// offset (HEAD) and sends what is missing, re-derived from the stored copy, so
// the message is still queued only when the blob is complete (R2). A kill -9
// before that commit leaves no message; the blob on the relay, partial or
// complete, is an orphan its TTL deletes (counted in the account's quota until then).

/**
 * Most bytes per append while following the seal (the upload job's appends are
 * UPLOAD_CHUNK_BYTES). Each append is one relay fsync, and while it flushes the
 * upload stands still as the seal goes on: with 8 MiB appends the upload had
 * 48–56 % of a 100 MiB blob when the seal ended, with 32 MiB 96 % (the 1 s
 * bound still ends an append on a slow link, and a cut append keeps its prefix).
 */
export const EARLY_APPEND_BYTES = 32 * 1024 * 1024;

/** What the upload during the seal got: the reservation (to commit with the row) and the relay's last acknowledged offset. */
export interface EarlyUpload {
  readonly upload: BlobUpload;
  readonly offset: number;
}

/** An upload that follows a seal; `settle` once the seal has ended. */
export interface SealingUpload {
  /**
   * The reservation and offset once the upload has sent everything the seal
   * queued (the blob complete) or stopped; undefined when no reservation
   * arrived before the seal ended (a late one is left unused: an orphan the
   * relay's TTL deletes) or the relay refused (the upload job then tries as it always did).
   */
  settle(): Promise<EarlyUpload | undefined>;
}

/**
 * Reserves a blob of `length` bytes and appends what `sealed` queues,
 * EARLY_APPEND_BYTES or UPLOAD_CHUNK_MS per append, until the blob is
 * complete. Never rejects: a relay failure, or an answer not to be believed,
 * only ends the early part (the stream is dropped, so the seal never waits on it).
 */
export function uploadWhileSealing(
  uploads: () => BlobUploads,
  length: number,
  sealed: SealedStream,
): SealingUpload {
  let reserved: BlobUpload | undefined;
  let offset = 0;
  const running = (async () => {
    const relay = uploads();
    const upload = await relay.create(length);
    if (sealed.abandoned || sealed.done) return; // too late: the row is committed without it
    reserved = upload;
    while (offset < length) {
      const end = Math.min(offset + EARLY_APPEND_BYTES, length);
      const first = await sealed.take(end - offset);
      if (!first) return; // the seal ended short of the length, or the upload stepped aside
      const body = following(sealed, first, offset, end);
      const acknowledged = await relay.append(upload, offset, body.chunks);
      // No progress, more than was sent (a relay not to be believed) or less
      // (those bytes are gone from the stream): the upload job asks HEAD.
      if (acknowledged <= offset || acknowledged !== offset + body.sent()) return;
      offset = acknowledged;
    }
  })()
    .catch((error: unknown) => {
      // The seal's own failure is the one compose reports; a relay's is the upload job's to meet again.
      if (!sealed.done) log.error('attachments.early_upload_stopped', error);
    })
    .finally(() => sealed.drop());
  return {
    settle: async () => {
      if (!reserved) {
        sealed.drop();
        return undefined;
      }
      await running;
      return { upload: reserved, offset };
    },
  };
}

/** Bytes [start, end) as the seal queues them (`first` taken already), for at most UPLOAD_CHUNK_MS; `sent` counts what was given. */
function following(
  sealed: SealedStream,
  first: Buffer,
  start: number,
  end: number,
): { chunks: AsyncGenerator<Buffer>; sent: () => number } {
  let position = start;
  async function* chunks(): AsyncGenerator<Buffer> {
    const deadline = Date.now() + UPLOAD_CHUNK_MS;
    position += first.length;
    yield first;
    while (position < end && Date.now() < deadline) {
      const chunk = await sealed.take(end - position);
      if (!chunk) return; // the seal ended here, or the upload stepped aside
      position += chunk.length;
      yield chunk;
    }
  }
  return { chunks: chunks(), sent: () => position - start };
}
