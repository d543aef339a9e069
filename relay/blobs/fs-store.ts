import { randomBytes } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { chmod, mkdir, open, stat, unlink } from 'node:fs/promises';
import { join } from 'node:path';
import type { Readable } from 'node:stream';
import { BlobOffsetMismatch, type Appended, type BlobStore } from './store.ts';

// Blob bytes as files in one directory (docs/relay-operations.md#blobs): one
// file per blob, named by 16 random bytes in hex. The file's size is the
// truth: an append fsyncs before it reports an offset, and after kill -9 a
// tail written past the last fsync may or may not be there, and HEAD reports
// whatever is (the client resumes from it: bytes are written at their own
// offset, so what is on disk is always a prefix of the upload).

const KEY = /^[0-9a-f]{32}$/;

function code(error: unknown): string {
  const value = error instanceof Error ? (error as { code?: unknown }).code : undefined;
  return typeof value === 'string' ? value : '';
}

/** Blobs as files under `dir` (created 0700 if missing). */
export class FileBlobStore implements BlobStore {
  private constructor(private readonly dir: string) {}

  /** Opens (creating) the directory. */
  static async open(dir: string): Promise<FileBlobStore> {
    await mkdir(dir, { recursive: true, mode: 0o700 });
    await chmod(dir, 0o700);
    return new FileBlobStore(dir);
  }

  async create(): Promise<string> {
    const key = randomBytes(16).toString('hex');
    const file = await open(this.path(key), 'wx', 0o600);
    await file.close();
    return key;
  }

  async size(key: string): Promise<number> {
    try {
      return (await stat(this.path(key))).size;
    } catch (error) {
      if (code(error) === 'ENOENT') return 0;
      throw error;
    }
  }

  async append(key: string, offset: number, source: Readable, maxBytes: number): Promise<Appended> {
    // Errors of the source surface through its iterator below; this listener
    // only keeps one that happens while the file opens from going unhandled.
    source.on('error', () => undefined);
    // 'r+': the file must exist (create made it); a swept blob's file is not brought back.
    const file = await open(this.path(key), 'r+');
    let position = offset;
    let overflowed = false;
    try {
      const { size } = await file.stat();
      if (size !== offset) throw new BlobOffsetMismatch(size);
      // Pulling one chunk at a time pauses the request in between: the
      // socket's window closes while the disk is slow (backpressure) and
      // memory stays one chunk. A failed pull is the client going away (or
      // timing out): what arrived is kept. A failed write is the disk's and propagates.
      const chunks = source[Symbol.asyncIterator]() as AsyncIterator<Buffer>;
      for (;;) {
        let next: IteratorResult<Buffer>;
        try {
          next = await chunks.next();
        } catch {
          break;
        }
        if (next.done === true) break;
        const take = Math.min(offset + maxBytes - position, next.value.length);
        if (take > 0) await file.write(next.value, 0, take, position);
        position += take;
        if (take < next.value.length) {
          overflowed = true;
          break;
        }
      }
      await file.sync();
      return { offset: position, overflowed };
    } finally {
      await file.close();
    }
  }

  async finish(): Promise<void> {}

  read(key: string, start: number, end: number): Readable {
    return createReadStream(this.path(key), { start, end });
  }

  async delete(key: string): Promise<void> {
    try {
      await unlink(this.path(key));
    } catch (error) {
      if (code(error) !== 'ENOENT') throw error;
    }
  }

  private path(key: string): string {
    // Keys come from our own database, but a damaged row must not name a path elsewhere.
    if (!KEY.test(key)) throw new Error('not a blob storage key');
    return join(this.dir, key);
  }
}
