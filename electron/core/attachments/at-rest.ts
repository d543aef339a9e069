import { createCipheriv, createDecipheriv, hkdfSync } from 'node:crypto';
import { stat } from 'node:fs/promises';
import { paddedSize } from '../../../shared/protocol/attachment.ts';
import { SottoError } from '../errors.ts';
import { readChunks } from './file-chunks.ts';

// The at-rest format of a stored copy (local_format 1, docs/architecture.md#at-rest-format):
// the plaintext, zero-padded to the transport's size bucket, cut into 64 KiB
// chunks, each sealed with AES-256-GCM under a key derived from the file's
// 64-byte local key, with a nonce made of the chunk index and a final-chunk
// flag (age's STREAM). Every chunk carries its own tag, so a range read
// decrypts and checks only the chunks it touches, with no whole-file pass
// before the first byte; a chunk moved, dropped, added or altered fails its tag.

/** Plaintext bytes per chunk (the last chunk may be shorter, never empty). */
export const AT_REST_CHUNK_BYTES = 64 * 1024;
/** GCM tag bytes after each chunk's ciphertext. */
export const AT_REST_TAG_BYTES = 16;
const SEALED_BYTES = AT_REST_CHUNK_BYTES + AT_REST_TAG_BYTES;
/** Sealed chunks per file read: about 1 MiB, so per-call costs vanish. */
const CHUNKS_PER_READ = 16;
const KEY_INFO = 'sotto attachment at rest v1';
const ZEROS = Buffer.alloc(AT_REST_CHUNK_BYTES);

/** Plaintext with padding, chunk count and file length of a stored copy of `size` bytes. */
export function atRestLayout(size: number): { padded: number; chunks: number; length: number } {
  const padded = paddedSize(size);
  const chunks = Math.ceil(padded / AT_REST_CHUNK_BYTES);
  return { padded, chunks, length: padded + chunks * AT_REST_TAG_BYTES };
}

/** The AES-256-GCM key of a stored copy: HKDF-SHA256 of its local key (empty salt). */
function chunkKey(localKey: Uint8Array): Buffer {
  return Buffer.from(hkdfSync('sha256', localKey, Buffer.alloc(0), KEY_INFO, 32));
}

/** 11-byte big-endian chunk index ‖ 1 if it is the last chunk, else 0. */
function chunkNonce(index: number, last: boolean): Buffer {
  const nonce = Buffer.alloc(12);
  nonce.writeUIntBE(index, 5, 6);
  nonce[11] = last ? 1 : 0;
  return nonce;
}

/** Encrypts exactly `size` plaintext bytes, fed in any chunking, into the at-rest format. */
export class AtRestSealer {
  private readonly key: Buffer;
  private readonly layout: ReturnType<typeof atRestLayout>;
  private readonly partial = Buffer.alloc(AT_REST_CHUNK_BYTES);
  private filled = 0;
  private index = 0;
  private seen = 0;

  constructor(
    private readonly size: number,
    localKey: Uint8Array,
  ) {
    this.key = chunkKey(localKey);
    this.layout = atRestLayout(size);
  }

  /** The sealed chunks completed by the next plaintext bytes (empty until a chunk is full). */
  update(chunk: Uint8Array): Buffer {
    this.seen += chunk.length;
    if (this.seen > this.size) throw new SottoError('INVALID_INPUT', 'file grew while read');
    const out: Buffer[] = [];
    for (let at = 0; at < chunk.length;) {
      // Whole chunks straight from the input (no copy); the last chunk waits for finish().
      if (this.filled === 0 && chunk.length - at >= AT_REST_CHUNK_BYTES && !this.atLast()) {
        this.seal(chunk.subarray(at, at + AT_REST_CHUNK_BYTES), out);
        at += AT_REST_CHUNK_BYTES;
        continue;
      }
      const take = Math.min(chunk.length - at, AT_REST_CHUNK_BYTES - this.filled);
      this.partial.set(chunk.subarray(at, at + take), this.filled);
      this.filled += take;
      at += take;
      if (this.filled === AT_REST_CHUNK_BYTES && !this.atLast()) {
        this.seal(this.partial, out);
        this.filled = 0;
      }
    }
    return Buffer.concat(out);
  }

  /** The rest of the file: the zero padding and the last chunk, sealed with the final flag. */
  finish(): Buffer {
    if (this.seen !== this.size) throw new SottoError('INVALID_INPUT', 'file shrank while read');
    const out: Buffer[] = [];
    for (let left = this.layout.padded - this.size; ;) {
      const take = Math.min(left, AT_REST_CHUNK_BYTES - this.filled);
      this.partial.fill(0, this.filled, this.filled + take);
      this.filled += take;
      left -= take;
      if (this.atLast() && left === 0) break;
      this.seal(this.partial, out);
      this.filled = 0;
    }
    this.seal(this.partial.subarray(0, this.filled), out);
    if (this.index !== this.layout.chunks) throw new SottoError('INTERNAL', 'at-rest chunks');
    return Buffer.concat(out);
  }

  private atLast(): boolean {
    return this.index === this.layout.chunks - 1;
  }

  /** Appends the sealed chunk's pieces to `out` (joined once per call: one copy of the bytes). */
  private seal(plain: Uint8Array, out: Buffer[]): void {
    const cipher = createCipheriv('aes-256-gcm', this.key, chunkNonce(this.index, this.atLast()));
    this.index++;
    out.push(cipher.update(plain), cipher.final(), cipher.getAuthTag());
  }
}

/** What opens a stored copy in the at-rest format. */
export interface AtRestFile {
  readonly path: string;
  /** Plaintext size (the row's). */
  readonly size: number;
  readonly key: Uint8Array;
}

/**
 * Plaintext bytes [start, end) of a stored copy, reading and checking only
 * the chunks they lie in; with `wholeFile`, also every chunk after them and
 * that the padding is zeros (a save or an export vouches for the whole file).
 * A file of the wrong length, or a chunk that fails its tag, is
 * ATTACHMENT_TAMPERED before any byte of that chunk is yielded.
 */
export async function* readAtRest(
  file: AtRestFile,
  start: number,
  end: number,
  wholeFile = false,
): AsyncGenerator<Buffer> {
  const layout = atRestLayout(file.size);
  // Truncation or an appended chunk shows in the length, whatever the range.
  if ((await stat(file.path)).size !== layout.length)
    throw new SottoError('ATTACHMENT_TAMPERED', 'length');
  if (!wholeFile && end <= start) return;
  const stop = wholeFile ? layout.padded : end;
  const first = wholeFile ? 0 : Math.floor(start / AT_REST_CHUNK_BYTES);
  const key = chunkKey(file.key);
  let index = first;
  const reads = readChunks(
    file.path,
    first * SEALED_BYTES,
    Math.min(layout.length, Math.ceil(stop / AT_REST_CHUNK_BYTES) * SEALED_BYTES),
    CHUNKS_PER_READ * SEALED_BYTES,
  );
  for await (const read of reads) {
    for (let at = 0; at < read.length; at += SEALED_BYTES) {
      const sealed = read.subarray(at, at + SEALED_BYTES);
      const plain = openChunk(key, index, index === layout.chunks - 1, sealed);
      const base = index * AT_REST_CHUNK_BYTES;
      index++;
      if (wholeFile && base + plain.length > file.size) {
        const padding = plain.subarray(Math.max(0, file.size - base));
        if (!padding.equals(ZEROS.subarray(0, padding.length)))
          throw new SottoError('ATTACHMENT_TAMPERED', 'padding');
      }
      const from = Math.max(0, start - base);
      const to = Math.min(plain.length, Math.min(end, file.size) - base);
      if (to > from) yield plain.subarray(from, to);
    }
  }
  if (index * AT_REST_CHUNK_BYTES < Math.min(stop, layout.padded))
    throw new SottoError('ATTACHMENT_TAMPERED', 'truncated');
}

function openChunk(key: Buffer, index: number, last: boolean, sealed: Buffer): Buffer {
  if (sealed.length <= AT_REST_TAG_BYTES) throw new SottoError('ATTACHMENT_TAMPERED', 'chunk');
  const body = sealed.length - AT_REST_TAG_BYTES;
  try {
    const decipher = createDecipheriv('aes-256-gcm', key, chunkNonce(index, last));
    decipher.setAuthTag(sealed.subarray(body));
    const plain = decipher.update(sealed.subarray(0, body));
    // GCM is a stream mode: final() checks the tag and adds no bytes.
    decipher.final();
    return plain;
  } catch {
    throw new SottoError('ATTACHMENT_TAMPERED', 'chunk tag');
  }
}
