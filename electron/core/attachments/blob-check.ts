import { createHash, createHmac, timingSafeEqual } from 'node:crypto';
import { stat } from 'node:fs/promises';
import { ATTACHMENT_KEY_BYTES, ciphertextSize } from '../../../shared/protocol/attachment.ts';
import { SottoError } from '../errors.ts';
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

/** Digest and MAC of one blob over its bytes in order; `finish` decides. */
export class BlobCheck {
  /** The blob's exact length for the expected plaintext size. */
  readonly length: number;
  private readonly digest = createHash('sha256');
  private readonly mac;
  private readonly tag = Buffer.alloc(MAC_BYTES);
  private seen = 0;

  constructor(private readonly expected: BlobExpectation) {
    this.length = ciphertextSize(expected.size);
    this.mac = createHmac('sha256', splitKey(expected.key).macKey);
  }

  /** The next bytes of the blob; more than its length is ATTACHMENT_TAMPERED at once. */
  update(chunk: Uint8Array): void {
    if (this.seen + chunk.length > this.length)
      throw new SottoError('ATTACHMENT_TAMPERED', 'blob too long');
    const body = this.length - MAC_BYTES;
    this.digest.update(chunk);
    const inBody = Math.max(0, Math.min(chunk.length, body - this.seen));
    if (inBody > 0) this.mac.update(chunk.subarray(0, inBody));
    // The tag's bytes are kept aside: the MAC is over everything before them.
    if (inBody < chunk.length) this.tag.set(chunk.subarray(inBody), this.seen + inBody - body);
    this.seen += chunk.length;
  }

  /** Length, then digest, then MAC (constant time): the first that fails is ATTACHMENT_TAMPERED. */
  finish(): void {
    if (this.seen !== this.length) throw new SottoError('ATTACHMENT_TAMPERED', 'length');
    if (!sameBytes(this.digest.digest(), this.expected.digest))
      throw new SottoError('ATTACHMENT_TAMPERED', 'digest');
    if (!sameBytes(this.mac.digest(), this.tag)) throw new SottoError('ATTACHMENT_TAMPERED', 'mac');
  }
}

/**
 * Checks the blob at `path` against a pointer's size, digest and key, in
 * that order, before a single plaintext byte is produced: wrong length, digest
 * or MAC (compared in constant time) is ATTACHMENT_TAMPERED.
 */
export async function verifyBlob(path: string, expected: BlobExpectation): Promise<void> {
  const check = new BlobCheck(expected);
  if ((await stat(path)).size !== check.length)
    throw new SottoError('ATTACHMENT_TAMPERED', 'length');
  for await (const chunk of readChunks(path, 0, check.length)) check.update(chunk);
  check.finish();
}

function sameBytes(a: Uint8Array, b: Uint8Array): boolean {
  return a.length === b.length && timingSafeEqual(a, b);
}
