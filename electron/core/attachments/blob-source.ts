import { SottoError } from '../errors.ts';
import { BlobSealer } from './attachment-crypto.ts';
import type { AttachmentRow } from './attachment-rows.ts';
import { gathered, readChunks } from './file-chunks.ts';
import { tempPath } from './local-files.ts';
import { openStoredCopy, type StoredCopy, storedCopyOf } from './stored-copy.ts';

// Where an upload's bytes come from (upload-job.ts). Compose keeps no
// transport ciphertext on disk: the blob's IV follows from its key
// (attachment-crypto.ts transportIv), so its bytes are re-derived from the
// stored copy, every chunk of which is checked as it is read: decrypted, then
// encrypted again under the row's transport key from the first byte (CBC
// chains, so the bytes at an offset need every block before it), and only the
// part from the offset on is sent. The digest is compared with the row's
// before the blob's last bytes (its MAC) are given: a blob that is not the
// one the pointer names is never completed. A row of an older version that
// still names a `.up` temp file is sent from that file, as then.

/** An upload's bytes, asked for in consecutive ranges; its failure is kept for the caller. */
export interface BlobSource {
  /** Bytes [start, end) of the blob. */
  bytes(start: number, end: number): AsyncGenerator<Buffer>;
  /** The source's own failure (ATTACHMENT_TAMPERED…) if the last range stopped on one. */
  readonly failure: Error | undefined;
  /** Lets go of a derivation in progress. */
  close(): Promise<void>;
}

/** The source of an outgoing row's blob: its `.up` temp file if it has one, else its stored copy. */
export function blobSourceOf(profileDir: string, row: AttachmentRow): BlobSource {
  if (row.tempName) {
    const path = tempPath(profileDir, row.tempName);
    return { bytes: (start, end) => readChunks(path, start, end), failure: undefined, close };
  }
  const copy = storedCopyOf(profileDir, row);
  if (!copy) throw new SottoError('ATTACHMENT_NOT_FOUND', 'upload without its stored copy');
  if (!row.digest) throw new SottoError('INTERNAL', 'upload without its digest');
  return new DerivedBlob(copy, row.transportKey, row.digest);
}

async function close(): Promise<void> {}

/** A blob re-derived from a stored copy, one derivation running across consecutive ranges. */
class DerivedBlob implements BlobSource {
  private running: AsyncGenerator<Buffer> | undefined;
  private position = 0;
  private held: Buffer | undefined;
  failure: Error | undefined;

  constructor(
    private readonly copy: StoredCopy,
    private readonly key: Uint8Array,
    private readonly digest: Uint8Array,
  ) {}

  async *bytes(start: number, end: number): AsyncGenerator<Buffer> {
    // A range that does not go on from the last (the relay kept less than it was given): start again.
    if (!this.running || this.position !== start) {
      await this.close();
      this.running = derivedBlob(this.copy, this.key, this.digest, start);
      this.position = start;
    }
    try {
      while (this.position < end) {
        let next = this.held;
        this.held = undefined;
        if (!next) {
          const step = await this.running.next();
          if (step.done) return;
          next = step.value;
        }
        const want = end - this.position;
        if (next.length > want) this.held = next.subarray(want);
        const out = next.length > want ? next.subarray(0, want) : next;
        this.position += out.length;
        yield out;
      }
    } catch (error) {
      this.failure = error instanceof Error ? error : new SottoError('INTERNAL', 'blob source');
      throw error;
    }
  }

  async close(): Promise<void> {
    this.held = undefined;
    await this.running?.return(undefined);
    this.running = undefined;
  }
}

/**
 * The transport blob of a stored copy under `key` (and its derived IV), from
 * byte `start`; ATTACHMENT_TAMPERED before a byte of a damaged chunk, or
 * before the MAC when the digest is not `digest`.
 */
export async function* derivedBlob(
  copy: StoredCopy,
  key: Uint8Array,
  digest: Uint8Array,
  start: number,
): AsyncGenerator<Buffer> {
  const sealer = new BlobSealer(copy.size, key);
  let position = 0;
  function* from(out: Buffer): Generator<Buffer> {
    const skip = start - position;
    position += out.length;
    if (skip < out.length) yield skip > 0 ? out.subarray(skip) : out;
  }
  // 1 MiB per encryption call: the stored copy yields 64 KiB chunks.
  for await (const plain of gathered(openStoredCopy(copy))) yield* from(sealer.update(plain));
  const tail = sealer.finish();
  if (!sealer.sealed.digest.equals(digest))
    throw new SottoError('ATTACHMENT_TAMPERED', 'stored copy does not make the blob');
  yield* from(tail);
}
