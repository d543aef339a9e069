import { randomBytes } from 'node:crypto';
import { type FileHandle, open, rename, rm } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';
import { SottoError } from '../../errors.ts';
import { fsyncDirectory } from '../../fs-atomic.ts';
import {
  DEFAULT_SCRYPT_LOG_N,
  headerLength,
  MAX_HEADER_BYTES,
  newFileKey,
  parseHeader,
  sealHeader,
  unwrapFileKey,
} from './header.ts';
import { PAYLOAD_NONCE_BYTES, PayloadOpener, PayloadSealer, SEALED_CHUNK } from './payload.ts';
import { releaseBuffers } from '../release.ts';

/** Sealed bytes gathered before one write call. */
const WRITE_BATCH = 1024 * 1024;
/** Sealed chunks read per read call. */
const READ_CHUNKS = 16;

/** Options for writing an age file. */
export interface AgeWriteOptions {
  /** scrypt work factor (log2 N). Default 18, as age; lower it only in tests and benchmarks. */
  readonly scryptLogN?: number;
}

/**
 * Writes an age v1 passphrase file. Everything goes to a temporary file beside
 * the target, which replaces the target only at `commit` (fsync, rename,
 * fsync the directory): a crash or `abort` leaves no partial backup behind.
 *
 * The payload is sealed from the start, while scrypt derives the header's
 * wrapping key on libuv's thread pool (about a second at 2^18): the header
 * has a fixed length, so the payload is written after a gap of that length
 * and the header into the gap at `commit`.
 */
export class AgeFileWriter {
  private pending: Buffer[] = [];
  private pendingBytes = 0;
  /** Where the next batch goes: after the reserved header gap and everything queued before it. */
  private position: number;
  private written = 0;
  /** The batch being written while the next one is sealed (one at a time, in order). */
  private writing: Promise<void> = Promise.resolve();

  private constructor(
    private readonly target: string,
    private readonly temp: string,
    private readonly handle: FileHandle,
    private readonly sealer: PayloadSealer,
    /** The header, once scrypt is done. */
    private readonly header: Promise<Buffer>,
    private readonly headerBytes: number,
  ) {
    this.position = headerBytes;
  }

  /** Creates the temporary file and starts deriving the header's key; the payload can be written at once. */
  static async create(
    target: string,
    passphrase: string,
    options: AgeWriteOptions = {},
  ): Promise<AgeFileWriter> {
    const logN = options.scryptLogN ?? DEFAULT_SCRYPT_LOG_N;
    const headerBytes = headerLength(logN);
    const fileKey = newFileKey();
    const sealer = new PayloadSealer(fileKey);
    // The file key is needed until the header is wrapped and MACed, and not after.
    const header = sealHeader(passphrase, fileKey, logN).finally(() => fileKey.fill(0));
    // Seen by commit or abort; not an unhandled rejection meanwhile.
    header.catch(() => undefined);
    const temp = join(
      dirname(target),
      `.${basename(target)}.partial-${process.pid}-${randomBytes(4).toString('hex')}`,
    );
    let handle: FileHandle;
    try {
      handle = await open(temp, 'wx', 0o600);
    } catch (error) {
      await header.catch(() => undefined);
      throw error;
    }
    const writer = new AgeFileWriter(target, temp, handle, sealer, header, headerBytes);
    writer.queue([sealer.nonce]);
    return writer;
  }

  /** Plaintext bytes that would complete the current 64 KiB chunk. */
  get roomInChunk(): number {
    return this.sealer.roomInChunk;
  }

  /**
   * Encrypts `plaintext`; hands a batch of sealed chunks to the file when one
   * is ready, and returns once the batch before it is written (so at most two
   * batches are held).
   */
  async write(plaintext: Uint8Array): Promise<void> {
    this.queue(this.sealer.push(plaintext));
    if (this.pendingBytes >= WRITE_BATCH) await this.flush();
  }

  /** Seals the final chunk, makes the file durable and moves it into place. Returns its size. */
  async commit(): Promise<number> {
    this.queue(this.sealer.finish());
    await this.flush();
    await this.writing;
    const header = await this.header;
    if (header.length !== this.headerBytes) throw new Error('age header length');
    await writeAt(this.handle, header, 0);
    this.written += header.length;
    await this.handle.sync();
    await this.handle.close();
    await rename(this.temp, this.target);
    fsyncDirectory(dirname(this.target));
    return this.written;
  }

  /** Discards the temporary file. */
  async abort(): Promise<void> {
    await this.writing.catch(() => undefined);
    // Not awaited: scrypt cannot be stopped, and its result is no longer wanted.
    await this.handle.close().catch(() => undefined);
    await rm(this.temp, { force: true });
  }

  private queue(buffers: Buffer[]): void {
    for (const b of buffers) {
      this.pending.push(b);
      this.pendingBytes += b.length;
    }
  }

  /** Waits for the previous batch, then starts writing the pending one. */
  private async flush(): Promise<void> {
    await this.writing;
    const buffers = this.pending;
    const length = this.pendingBytes;
    this.pending = [];
    this.pendingBytes = 0;
    this.writing = this.writeAll(buffers, length);
    // Seen by the next flush, commit or abort; not an unhandled rejection meanwhile.
    this.writing.catch(() => undefined);
  }

  private async writeAll(buffers: Buffer[], length: number): Promise<void> {
    const at = this.position;
    this.position += length;
    const { bytesWritten } = await this.handle.writev(buffers, at);
    // writev may write less than asked; finish the rest with plain writes.
    if (bytesWritten < length)
      await writeAt(
        this.handle,
        Buffer.concat(buffers, length).subarray(bytesWritten),
        at + bytesWritten,
      );
    this.written += length;
    // Written: their memory can go now rather than at the next major GC.
    releaseBuffers(buffers);
  }
}

/** Writes all of `bytes` at `position`. */
async function writeAt(handle: FileHandle, bytes: Buffer, position: number): Promise<void> {
  for (let offset = 0; offset < bytes.length;) {
    const { bytesWritten } = await handle.write(
      bytes,
      offset,
      bytes.length - offset,
      position + offset,
    );
    offset += bytesWritten;
  }
}

/**
 * Reads and authenticates an age v1 passphrase file chunk by chunk, in
 * constant memory. `next` yields plaintext chunks and `undefined` once a valid
 * final chunk ended the file.
 */
export class AgeFileReader {
  private block: Buffer = Buffer.alloc(0);
  private blockStart = 0;
  /** The read of the block after `block`, started while this one is decrypted. */
  private ahead: { readonly start: number; readonly read: Promise<Buffer> } | undefined;
  private position: number;
  private done = false;

  private constructor(
    private readonly handle: FileHandle,
    /** File size in bytes (fixed when opened). */
    readonly size: number,
    private readonly opener: PayloadOpener,
    payloadStart: number,
  ) {
    this.position = payloadStart;
  }

  /**
   * Opens `path` and unwraps its file key. Rejects with BACKUP_TRUNCATED,
   * BACKUP_TAMPERED, BACKUP_UNSUPPORTED_VERSION or WRONG_BACKUP_PASSPHRASE.
   */
  static async open(path: string, passphrase: string): Promise<AgeFileReader> {
    const handle = await open(path, 'r');
    try {
      const size = (await handle.stat()).size;
      const head = await readAt(
        handle,
        0,
        Math.min(size, MAX_HEADER_BYTES + PAYLOAD_NONCE_BYTES + 1),
      );
      const header = parseHeader(head, head.length === size);
      if (size < header.length + PAYLOAD_NONCE_BYTES)
        throw new SottoError('BACKUP_TRUNCATED', 'payload nonce');
      const nonce = head.subarray(header.length, header.length + PAYLOAD_NONCE_BYTES);
      const fileKey = await unwrapFileKey(header, passphrase);
      const opener = new PayloadOpener(fileKey, nonce);
      fileKey.fill(0);
      return new AgeFileReader(handle, size, opener, header.length + PAYLOAD_NONCE_BYTES);
    } catch (error) {
      await handle.close();
      throw error;
    }
  }

  /** File bytes consumed so far (for progress). */
  get bytesRead(): number {
    return this.position;
  }

  /** The next plaintext chunk, or undefined after the final one. */
  async next(): Promise<Buffer | undefined> {
    if (this.done) return undefined;
    const remaining = this.size - this.position;
    if (remaining === 0) throw new SottoError('BACKUP_TRUNCATED', 'no chunks');
    const length = Math.min(SEALED_CHUNK, remaining);
    const atEnd = length === remaining;
    const sealed = await this.slice(this.position, length);
    const plaintext = this.opener.open(sealed, atEnd);
    this.position += length;
    this.done = atEnd;
    return plaintext;
  }

  /** Closes the file. */
  async close(): Promise<void> {
    await this.ahead?.read.catch(() => undefined);
    this.ahead = undefined;
    await this.handle.close();
  }

  private async slice(start: number, length: number): Promise<Buffer> {
    if (start < this.blockStart || start + length > this.blockStart + this.block.length) {
      const ahead = this.ahead;
      this.block = await (ahead?.start === start ? ahead.read : this.readBlock(start));
      this.blockStart = start;
      // Reading the next block overlaps decrypting this one.
      const next = start + this.block.length;
      this.ahead = next < this.size ? { start: next, read: this.readBlock(next) } : undefined;
      // A failed read-ahead is seen when (if) it is used.
      this.ahead?.read.catch(() => undefined);
    }
    return this.block.subarray(start - this.blockStart, start - this.blockStart + length);
  }

  private readBlock(start: number): Promise<Buffer> {
    return readAt(this.handle, start, Math.min(READ_CHUNKS * SEALED_CHUNK, this.size - start));
  }
}

async function readAt(handle: FileHandle, position: number, length: number): Promise<Buffer> {
  const buffer = Buffer.allocUnsafe(length);
  let filled = 0;
  while (filled < length) {
    const { bytesRead } = await handle.read(buffer, filled, length - filled, position + filled);
    if (bytesRead === 0) break;
    filled += bytesRead;
  }
  return filled === length ? buffer : buffer.subarray(0, filled);
}
