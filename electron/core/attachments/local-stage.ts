import { renameSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { fsyncDirectory } from '../fs-atomic.ts';
import { newAttachmentKey } from './attachment-crypto.ts';
import { AtRestSealer } from './at-rest.ts';
import { FILE_CHUNK_BYTES, FileSink } from './file-chunks.ts';
import { ensureAttachmentDirs, type LocalCopy, randomFileName } from './local-files.ts';

// A stored copy being written as its plaintext arrives, for a download that
// decrypts while it downloads: sealed in the at-rest format under a fresh
// local key into attachments/tmp/, and moved into attachments/ only by
// `keep`, which the caller reaches only once the blob's MAC and digest
// matched. Until then it is a staged file like any other: discarded on
// failure, and deleted as an orphan by the next open after a crash.

/** A stored copy in the making; `keep` or `discard` ends it. */
export class LocalStage {
  private constructor(
    private readonly dirs: { files: string; tmp: string },
    private readonly staged: string,
    private readonly sink: FileSink,
    private readonly sealer: AtRestSealer,
    private readonly localKey: Buffer,
  ) {}

  private gathered: Buffer[] = [];
  private gatheredBytes = 0;

  /** Starts a stored copy of `size` plaintext bytes under the profile at `profileDir`. */
  static async open(profileDir: string, size: number): Promise<LocalStage> {
    const dirs = ensureAttachmentDirs(profileDir);
    const staged = join(dirs.tmp, randomFileName('.stage'));
    const localKey = newAttachmentKey();
    const sink = await FileSink.open(staged, 'wx');
    return new LocalStage(dirs, staged, sink, new AtRestSealer(size, localKey), localKey);
  }

  /**
   * The next plaintext bytes. Sealed output is gathered into writes of about
   * FILE_CHUNK_BYTES (a download arrives in socket-sized chunks, and a write
   * each would be a thread-pool round trip per 64 KiB); resolves once the
   * write before is done (backpressure).
   */
  async write(plain: Uint8Array): Promise<void> {
    const sealed = this.sealer.update(plain);
    if (sealed.length > 0) this.gathered.push(sealed);
    this.gatheredBytes += sealed.length;
    if (this.gatheredBytes >= FILE_CHUNK_BYTES) await this.flush();
  }

  /** Seals the last chunk and fsyncs the file (still staged: `keep` moves it). */
  async finish(): Promise<void> {
    this.gathered.push(this.sealer.finish());
    await this.flush();
    await this.sink.close(true);
  }

  /** Moves the finished file into attachments/ durably; the caller commits the row that names it. */
  keep(): LocalCopy {
    const localName = randomFileName();
    renameSync(this.staged, join(this.dirs.files, localName));
    fsyncDirectory(this.dirs.files);
    return { localName, localKey: this.localKey, localDigest: null, localFormat: 1 };
  }

  private flush(): Promise<void> {
    const out = this.gathered.length === 1 ? this.gathered[0]! : Buffer.concat(this.gathered);
    this.gathered = [];
    this.gatheredBytes = 0;
    return this.sink.write(out);
  }

  /** Deletes the staged file (after a failure or a cancel): nothing of it is kept. */
  async discard(): Promise<void> {
    await this.sink.abandon().catch(() => undefined);
    rmSync(this.staged, { force: true });
  }
}
