import { createCipheriv, createDecipheriv, randomBytes } from 'node:crypto';
import { SottoError } from '../../errors.ts';
import { hkdf } from './header.ts';

// The age v1 payload: a 16-byte nonce, then STREAM chunks of 64 KiB of
// plaintext, each sealed with ChaCha20-Poly1305 under a key derived from the
// file key and the nonce. The chunk nonce is an 11-byte big-endian counter and
// a last-chunk flag (0x01 on the final chunk only).

/** Plaintext bytes per chunk. */
export const CHUNK = 64 * 1024;
const TAG = 16;
/** Bytes of one full sealed chunk on disk. */
export const SEALED_CHUNK = CHUNK + TAG;
export const PAYLOAD_NONCE_BYTES = 16;

function chunkNonce(counter: number, last: boolean): Buffer {
  const nonce = Buffer.alloc(12);
  // 2^53 chunks is far beyond any file; the upper bytes of the 88-bit counter stay zero.
  nonce.writeUIntBE(Math.floor(counter / 2 ** 32), 3, 4);
  nonce.writeUInt32BE(counter >>> 0, 7);
  nonce[11] = last ? 1 : 0;
  return nonce;
}

/** Derives the payload key from the file key and the payload nonce. */
export function payloadKey(fileKey: Uint8Array, nonce: Uint8Array): Buffer {
  return hkdf(fileKey, nonce, 'payload');
}

/**
 * Encrypts a stream of plaintext into age chunks. `push` returns the sealed
 * chunks that are complete, as pieces to write in order (ciphertext, tag, …);
 * a full chunk is held back until more plaintext arrives, because only then
 * is it known not to be the last. Whole chunks inside a large `push` are
 * sealed in place, without a copy.
 */
export class PayloadSealer {
  private readonly key: Buffer;
  private readonly staging = Buffer.alloc(CHUNK);
  private filled = 0;
  private counter = 0;
  private finished = false;
  /** The payload nonce: write it before the first chunk. */
  readonly nonce: Buffer;

  constructor(fileKey: Uint8Array) {
    this.nonce = randomBytes(PAYLOAD_NONCE_BYTES);
    this.key = payloadKey(fileKey, this.nonce);
  }

  /** Adds plaintext; returns the sealed pieces it completed (possibly none). */
  push(plaintext: Uint8Array): Buffer[] {
    if (this.finished) throw new Error('sealer is finished');
    const out: Buffer[] = [];
    let offset = 0;
    while (offset < plaintext.length) {
      if (this.filled === CHUNK) {
        this.seal(this.staging, false, out);
        this.filled = 0;
      }
      // A whole chunk with more plaintext after it is not the last: seal it where it is.
      if (this.filled === 0 && plaintext.length - offset > CHUNK) {
        this.seal(plaintext.subarray(offset, offset + CHUNK), false, out);
        offset += CHUNK;
        continue;
      }
      const take = Math.min(CHUNK - this.filled, plaintext.length - offset);
      this.staging.set(plaintext.subarray(offset, offset + take), this.filled);
      this.filled += take;
      offset += take;
    }
    return out;
  }

  /** Plaintext bytes still needed to fill the current chunk (0 when it is full). */
  get roomInChunk(): number {
    return CHUNK - this.filled;
  }

  /** Seals what is staged as the final chunk; returns its pieces. */
  finish(): Buffer[] {
    this.finished = true;
    const out: Buffer[] = [];
    this.seal(this.staging.subarray(0, this.filled), true, out);
    return out;
  }

  private seal(plaintext: Uint8Array, last: boolean, out: Buffer[]): void {
    const cipher = createCipheriv('chacha20-poly1305', this.key, chunkNonce(this.counter++, last), {
      authTagLength: TAG,
    });
    out.push(cipher.update(plaintext));
    cipher.final();
    out.push(cipher.getAuthTag());
  }
}

/**
 * Decrypts sealed chunks one by one. The caller says whether a chunk is the
 * last piece of the file; the error tells what went wrong in the terms a user
 * understands (see docs/backup-format.md, "Errors").
 */
export class PayloadOpener {
  private readonly key: Buffer;
  private counter = 0;

  constructor(fileKey: Uint8Array, nonce: Uint8Array) {
    this.key = payloadKey(fileKey, nonce);
  }

  /**
   * Opens the next chunk. `atEnd`: nothing follows it in the file.
   * - not at the end: it must open as a non-final chunk; if it opens as the
   *   final one, bytes were appended (BACKUP_TRAILING_DATA);
   * - at the end: it must open as the final chunk; if it opens as a non-final
   *   one, or is shorter than a full chunk and opens as neither, the file was
   *   cut (BACKUP_TRUNCATED). Sotto writes only full chunks, so a short piece
   *   that fails is a cut, and a full one that fails was altered.
   */
  open(sealed: Buffer, atEnd: boolean): Buffer {
    const counter = this.counter++;
    if (sealed.length < TAG) throw new SottoError('BACKUP_TRUNCATED', 'partial chunk');
    if (!atEnd) {
      const plaintext = this.tryOpen(sealed, counter, false);
      if (plaintext) return plaintext;
      if (this.tryOpen(sealed, counter, true)) throw new SottoError('BACKUP_TRAILING_DATA');
      throw new SottoError('BACKUP_TAMPERED', 'chunk');
    }
    const plaintext = this.tryOpen(sealed, counter, true);
    if (plaintext) {
      if (plaintext.length === 0 && counter > 0)
        throw new SottoError('BACKUP_TAMPERED', 'empty final chunk');
      return plaintext;
    }
    if (this.tryOpen(sealed, counter, false))
      throw new SottoError('BACKUP_TRUNCATED', 'no final chunk');
    if (sealed.length < SEALED_CHUNK) throw new SottoError('BACKUP_TRUNCATED', 'partial chunk');
    throw new SottoError('BACKUP_TAMPERED', 'final chunk');
  }

  private tryOpen(sealed: Buffer, counter: number, last: boolean): Buffer | undefined {
    const decipher = createDecipheriv('chacha20-poly1305', this.key, chunkNonce(counter, last), {
      authTagLength: TAG,
    });
    decipher.setAuthTag(sealed.subarray(sealed.length - TAG));
    try {
      const plaintext = decipher.update(sealed.subarray(0, sealed.length - TAG));
      // final() only checks the tag: ChaCha20 is a stream cipher, update() returned every byte.
      decipher.final();
      return plaintext;
    } catch {
      return undefined;
    }
  }
}
