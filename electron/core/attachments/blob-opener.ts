import { createDecipheriv, type Decipher } from 'node:crypto';
import { ciphertextSize } from '../../../shared/protocol/attachment.ts';
import { SottoError } from '../errors.ts';
import { IV_BYTES, MAC_BYTES, splitKey } from './blob-check.ts';

// The decryption of an AttachmentV2 blob (attachment-crypto.ts) fed the
// blob's bytes in order, in any chunking: the IV is taken from the first 16
// bytes, the MAC tag at the end is skipped (BlobCheck judges it), and the
// zero padding after the plaintext is stripped. A download feeds it the same
// bytes it hashes, so the blob is read once; what it yields must be discarded
// unless BlobCheck.finish and then finish() here both pass.

/** Streaming AttachmentV2 decryption of a blob whose plaintext is `size` bytes. */
export class BlobOpener {
  private readonly length: number;
  private readonly aesKey: Uint8Array;
  private readonly iv = Buffer.alloc(IV_BYTES);
  private decipher: Decipher | undefined;
  private seen = 0;
  private left: number;
  private nonZero = false;

  constructor(size: number, key: Uint8Array) {
    this.length = ciphertextSize(size);
    this.aesKey = splitKey(key).aesKey;
    this.left = size;
  }

  /** The plaintext the next blob bytes complete (possibly empty; CBC holds the last block back). */
  update(chunk: Uint8Array): Buffer {
    const at = this.seen;
    this.seen += chunk.length;
    if (this.seen > this.length) throw new SottoError('ATTACHMENT_TAMPERED', 'blob too long');
    let bytes = chunk;
    if (at < IV_BYTES) {
      const take = Math.min(IV_BYTES - at, bytes.length);
      this.iv.set(bytes.subarray(0, take), at);
      bytes = bytes.subarray(take);
      if (at + take === IV_BYTES)
        this.decipher = createDecipheriv('aes-256-cbc', this.aesKey, this.iv);
    }
    // The MAC tag's bytes are not ciphertext.
    const body = this.length - MAC_BYTES;
    const end = Math.min(this.seen, body);
    const start = this.seen - bytes.length;
    if (!this.decipher || end <= start) return Buffer.alloc(0);
    return this.take(this.decipher.update(bytes.subarray(0, end - start)));
  }

  /**
   * The last plaintext, once every blob byte was fed. A bad CBC padding, or a
   * zero padding that is not zeros, is ATTACHMENT_TAMPERED.
   */
  finish(): Buffer {
    if (this.seen !== this.length || !this.decipher)
      throw new SottoError('ATTACHMENT_TAMPERED', 'length');
    let last: Buffer;
    try {
      last = this.decipher.final();
    } catch {
      throw new SottoError('ATTACHMENT_TAMPERED', 'cbc padding');
    }
    const out = this.take(last);
    if (this.left !== 0 || this.nonZero) throw new SottoError('ATTACHMENT_TAMPERED', 'padding');
    return out;
  }

  /** The plaintext part of decrypted bytes; the zero padding after it is only checked. */
  private take(out: Buffer): Buffer {
    const keep = Math.min(this.left, out.length);
    this.left -= keep;
    if (keep === out.length) return out;
    if (!allZero(out.subarray(keep))) this.nonZero = true;
    return out.subarray(0, keep);
  }
}

const ZEROS = Buffer.alloc(64 * 1024);

function allZero(bytes: Buffer): boolean {
  for (let at = 0; at < bytes.length; at += ZEROS.length) {
    const part = bytes.subarray(at, at + ZEROS.length);
    if (!part.equals(ZEROS.subarray(0, part.length))) return false;
  }
  return true;
}
