import { createHash, type Hash } from 'node:crypto';
import type { AgeFileWriter } from '../age/file.ts';
import { CHUNK } from '../age/payload.ts';
import { type CountedType, emptyCounts, type RecordCounts, type Trailer } from './record-order.ts';
import type { BackupManifestIn } from './records.ts';

const NEWLINE = Buffer.from('\n');

/**
 * Writes the inner stream into an age file: the manifest, data records (one
 * JSON object per line, `type` first), the trailer with the counts and the
 * SHA-256 of every byte before it, then newline padding to a whole 64 KiB
 * chunk (so every sealed chunk is full: a cut file is then always told apart
 * from an altered one).
 */
export class RecordWriter {
  private readonly hash: Hash = createHash('sha256');
  private readonly counted: RecordCounts = emptyCounts();

  constructor(private readonly out: AgeFileWriter) {}

  /** Records written so far, by type. */
  get counts(): Readonly<RecordCounts> {
    return this.counted;
  }

  /** Writes the manifest (the first line). */
  manifest(manifest: BackupManifestIn): Promise<void> {
    return this.emit(`${JSON.stringify(manifest)}\n`);
  }

  /** Writes one record; its `type` member must come first. */
  record(type: CountedType, record: { readonly type: CountedType }): Promise<void> {
    this.counted[type] += 1;
    return this.emit(`${JSON.stringify(record)}\n`);
  }

  /** Writes `n` pre-serialized records of one type: UTF-8 lines joined by newlines (no final newline). */
  async lines(type: CountedType, block: Uint8Array, n: number): Promise<void> {
    if (n === 0) return;
    this.counted[type] += n;
    this.hash.update(block);
    this.hash.update(NEWLINE);
    await this.out.write(block);
    await this.out.write(NEWLINE);
  }

  /** Writes the trailer and the padding. */
  async finish(): Promise<Trailer> {
    const trailer: Trailer = {
      type: 'trailer',
      counts: { ...this.counted },
      sha256: this.hash.digest('hex'),
    };
    await this.out.write(Buffer.from(`${JSON.stringify(trailer)}\n`, 'utf8'));
    const padding = this.out.roomInChunk % CHUNK;
    if (padding > 0) await this.out.write(Buffer.alloc(padding, 0x0a));
    return trailer;
  }

  private emit(text: string): Promise<void> {
    const bytes = Buffer.from(text, 'utf8');
    this.hash.update(bytes);
    return this.out.write(bytes);
  }
}
