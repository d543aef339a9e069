import { timingSafeEqual } from 'node:crypto';
import { stat } from 'node:fs/promises';
import { ATTACHMENT_KEY_BYTES, ciphertextSize } from '../../../shared/protocol/attachment.ts';
import { SottoError } from '../errors.ts';
import { type BlobHasher, blobHasher } from './blob-hasher.ts';
import { readChunks } from './file-chunks.ts';

// The check of an AttachmentV2 blob against its pointer (length, digest, MAC),
// fed the blob's bytes in order: from a file already on disk (verifyBlob), or
// chunk by chunk as a download writes them, so the bytes are hashed while they
// pass and never read back just to be checked.

/** Blob IV length. */
export const IV_BYTES = 16;
/** HMAC-SHA256 tag length (the blob's last bytes). */
export const MAC_BYTES = 32;

/** What a pointer (or a stored copy's row) says the blob must be. */
export interface BlobExpectation {
  readonly size: number;
  readonly digest: Uint8Array;
  readonly key: Uint8Array;
}

/** The AES key and MAC key halves of a 64-byte attachment key. */
export function splitKey(key: Uint8Array): { aesKey: Uint8Array; macKey: Uint8Array } {
  if (key.length !== ATTACHMENT_KEY_BYTES) throw new SottoError('INTERNAL', 'attachment key');
  return { aesKey: key.subarray(0, 32), macKey: key.subarray(32) };
}

/** Digest and MAC of one blob over its bytes in order (blob-hasher.ts); `finish` decides. */
export class BlobCheck {
  /** The blob's exact length for the expected plaintext size. */
  readonly length: number;
  private readonly hasher: BlobHasher;
  private readonly tag = Buffer.alloc(MAC_BYTES);
  private seen = 0;

  constructor(
    private readonly expected: BlobExpectation,
    worker?: boolean,
  ) {
    this.length = ciphertextSize(expected.size);
    const body = this.length - MAC_BYTES;
    this.hasher = blobHasher(splitKey(expected.key).macKey, body, this.length, worker);
  }

  /**
   * The next bytes of the blob (the caller may reuse `chunk` once this
   * returns); more than its length is ATTACHMENT_TAMPERED at once, before any
   * await. Resolves when the hasher has room for more.
   */
  update(chunk: Uint8Array): Promise<void> {
    if (this.seen + chunk.length > this.length)
      throw new SottoError('ATTACHMENT_TAMPERED', 'blob too long');
    const body = this.length - MAC_BYTES;
    const inBody = Math.max(0, Math.min(chunk.length, body - this.seen));
    // The tag's bytes are kept aside: the MAC is over everything before them.
    if (inBody < chunk.length) this.tag.set(chunk.subarray(inBody), this.seen + inBody - body);
    this.seen += chunk.length;
    return this.hasher.update(chunk);
  }

  /** Length, then digest, then MAC (constant time): the first that fails is ATTACHMENT_TAMPERED. */
  async finish(): Promise<void> {
    if (this.seen !== this.length) {
      this.hasher.abandon();
      throw new SottoError('ATTACHMENT_TAMPERED', 'length');
    }
    const { digest, mac } = await this.hasher.finish();
    if (!sameBytes(digest, this.expected.digest))
      throw new SottoError('ATTACHMENT_TAMPERED', 'digest');
    if (!sameBytes(mac, this.tag)) throw new SottoError('ATTACHMENT_TAMPERED', 'mac');
  }

  /** Drops the check (the download failed or was cancelled). */
  abandon(): void {
    this.hasher.abandon();
  }
}

/**
 * Checks the blob at `path` against a pointer's size, digest and key, in
 * that order, before a single plaintext byte is produced: wrong length, digest
 * or MAC (compared in constant time) is ATTACHMENT_TAMPERED.
 */
export async function verifyBlob(path: string, expected: BlobExpectation): Promise<void> {
  if ((await stat(path)).size !== ciphertextSize(expected.size))
    throw new SottoError('ATTACHMENT_TAMPERED', 'length');
  const check = new BlobCheck(expected);
  try {
    for await (const chunk of readChunks(path, 0, check.length)) await check.update(chunk);
  } catch (error) {
    check.abandon();
    throw error;
  }
  await check.finish();
}

function sameBytes(a: Uint8Array, b: Uint8Array): boolean {
  return a.length === b.length && timingSafeEqual(a, b);
}
