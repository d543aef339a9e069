import { open, type FileHandle } from 'node:fs/promises';

// File I/O for the attachment path, sized for throughput: 1 MiB reads with
// the next read already in flight while the caller works on the current
// chunk, and writes with one in flight while the next chunk is computed. Node's
// streams move 64 KiB at a time through several promise hops per chunk, which
// cost more CPU than the AES over the same bytes (docs/architecture.md#attachments).
// Memory stays a few chunks whatever the file size.

/** Bytes per read: large enough that the per-call cost vanishes, small enough to stay flat in memory. */
export const FILE_CHUNK_BYTES = 1024 * 1024;

/**
 * Bytes [start, end) of the file at `path` in chunks of up to `chunkBytes`,
 * each a fresh buffer the caller may keep. A file shorter than `end` ends early.
 */
export async function* readChunks(
  path: string,
  start = 0,
  end = Number.POSITIVE_INFINITY,
  chunkBytes = FILE_CHUNK_BYTES,
): AsyncGenerator<Buffer> {
  if (end <= start) return;
  const handle = await open(path, 'r');
  let position = start;
  const next = () => {
    const want = Math.min(chunkBytes, end - position);
    const read = handle.read(Buffer.allocUnsafe(want), 0, want, position);
    position += want;
    return read;
  };
  let pending = next();
  // A read still in flight when the consumer stops must settle before the handle closes.
  pending.catch(() => undefined);
  try {
    for (;;) {
      const { bytesRead, buffer } = await pending;
      if (bytesRead === 0) return;
      const more = bytesRead === buffer.length && position < end;
      if (more) {
        pending = next();
        pending.catch(() => undefined);
      }
      yield bytesRead === buffer.length ? buffer : buffer.subarray(0, bytesRead);
      if (!more) return;
    }
  } finally {
    await pending.catch(() => undefined);
    await handle.close();
  }
}

/** Sequential writes to one file with one write in flight, synced on `close` when asked. */
export class FileSink {
  private pending: Promise<unknown> = Promise.resolve();
  private position: number;
  /** Told the file's written length after each write lands (writes land in order): what a reader may read. */
  onWritten: ((length: number) => void) | undefined;

  private constructor(
    private readonly handle: FileHandle,
    start: number,
  ) {
    this.position = start;
  }

  /** Opens `path` for writing at `start` (flags as fs.open: 'w', 'wx', 'r+'…). */
  static async open(path: string, flags: string, start = 0, mode = 0o600): Promise<FileSink> {
    return new FileSink(await open(path, flags, mode), start);
  }

  /** Bytes written or queued so far, counted from the file's start. */
  get written(): number {
    return this.position;
  }

  /** Queues `chunk` after the previous one; resolves once the previous write is done (backpressure). */
  async write(chunk: Uint8Array): Promise<void> {
    await this.pending;
    if (chunk.length === 0) return;
    const at = this.position;
    this.position += chunk.length;
    this.pending = this.writeAll(chunk, at);
    // Surfaced by the next write or close; this keeps it from being unhandled meanwhile.
    this.pending.catch(() => undefined);
  }

  /** Waits for the last write, fsyncs when `sync`, and closes (also after a failure). */
  async close(sync: boolean): Promise<void> {
    try {
      await this.pending;
      if (sync) await this.handle.sync();
    } finally {
      await this.handle.close();
    }
  }

  /** Closes without waiting for the disk to acknowledge anything (the caller is discarding the file). */
  async abandon(): Promise<void> {
    await this.pending.catch(() => undefined);
    await this.handle.close();
  }

  private async writeAll(chunk: Uint8Array, at: number): Promise<void> {
    // A short write (a full disk being freed, a signal) is continued, never dropped.
    for (let done = 0; done < chunk.length;) {
      const { bytesWritten } = await this.handle.write(chunk, done, chunk.length - done, at + done);
      if (bytesWritten === 0) throw new Error('short write');
      done += bytesWritten;
    }
    this.onWritten?.(at + chunk.length);
  }
}

/**
 * The bytes of `source` in pieces of at least `bytes` (the last may be
 * shorter): a writer fed 64 KiB pieces pays a thread-pool round trip for each.
 */
export async function* gathered(
  source: AsyncIterable<Uint8Array>,
  bytes = FILE_CHUNK_BYTES,
): AsyncGenerator<Uint8Array> {
  let pieces: Uint8Array[] = [];
  let held = 0;
  for await (const piece of source) {
    pieces.push(piece);
    held += piece.length;
    if (held < bytes) continue;
    yield pieces.length === 1 ? pieces[0]! : Buffer.concat(pieces);
    pieces = [];
    held = 0;
  }
  if (held > 0) yield pieces.length === 1 ? pieces[0]! : Buffer.concat(pieces);
}

/** Writes every chunk of `source` to a new file at `path` (fsynced when `sync`); returns the bytes written. */
export async function writeChunks(
  source: AsyncIterable<Uint8Array> | Iterable<Uint8Array>,
  path: string,
  options: { flags?: string; start?: number; sync: boolean },
): Promise<number> {
  const sink = await FileSink.open(path, options.flags ?? 'w', options.start ?? 0);
  try {
    for await (const chunk of source) await sink.write(chunk);
  } catch (error) {
    await sink.abandon();
    throw error;
  }
  await sink.close(options.sync);
  return sink.written;
}
