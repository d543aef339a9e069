import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import type { BlobUploads } from '../../electron/core/sync/blobs.ts';
import { cli } from './cli.ts';

// What attachment tests watch from outside the product while a transfer
// runs (the files themselves: a receiver's ciphertext temp files, any
// growing size), how they interrupt it at a point of progress, and what the
// CLI reports and saves once it is done.

/** A row of `sotto --json attachments <contact>`. */
export interface ListedAttachment {
  readonly id: number;
  readonly outgoing: boolean;
  readonly contentType: string;
  readonly fileName: string | null;
  readonly size: number;
  readonly state: string;
  readonly error: string | null;
}

/** The files in a profile's attachment temp folder (nothing once every transfer has ended). */
export function inTransit(profileDir: string): string[] {
  return readdirSync(join(profileDir, 'attachments', 'tmp'));
}

/** Bytes of ciphertext a receiver holds in transit (its `.down` temp files); 0 before the folder exists. */
export function downloading(profileDir: string): number {
  const tmp = join(profileDir, 'attachments', 'tmp');
  try {
    return readdirSync(tmp)
      .filter((n) => n.endsWith('.down'))
      .reduce((sum, n) => sum + statSync(join(tmp, n)).size, 0);
  } catch {
    return 0;
  }
}

/** The attachments `sotto attachments <contact>` lists at `profileDir`. */
export async function listedAttachments(
  profileDir: string,
  contact: string,
): Promise<ListedAttachment[]> {
  return JSON.parse(
    await cli(profileDir, ['--json', 'attachments', contact]),
  ) as ListedAttachment[];
}

/** Saves attachment `id` with `sotto attachment save` to `out`; the bytes written there. */
export async function savedAttachment(
  profileDir: string,
  id: number,
  out: string,
): Promise<Buffer> {
  await cli(profileDir, ['attachment', 'save', String(id), out]);
  return readFileSync(out);
}

/** What `killPastProgress` saw once stopped. */
export interface KillWatch {
  /** The probe's value at the kill (undefined: no kill, the transfer ended or never got there). */
  readonly killedAt: number | undefined;
  /** The smallest non-zero value seen (a transfer that restarted from zero shows here). */
  readonly lowest: number;
}

/**
 * Samples `probe` every 2 ms; the first time it is past `after` and short of
 * `end`, calls `kill` (which returns false while it has nothing to kill yet,
 * and is then asked again). `stop` ends the sampling and tells what it saw.
 */
export function killPastProgress(
  probe: () => number,
  after: number,
  end: number,
  kill: () => boolean,
): () => KillWatch {
  let killedAt: number | undefined;
  let lowest = Number.POSITIVE_INFINITY;
  const timer = setInterval(() => {
    const size = probe();
    if (size > 0) lowest = Math.min(lowest, size);
    if (killedAt === undefined && size > after && size < end && kill()) killedAt = size;
  }, 2);
  return () => {
    clearInterval(timer);
    return { killedAt, lowest };
  };
}

/**
 * Samples `probe` every 2 ms until `stop`, which returns the lowest value seen
 * (a transfer that restarted from zero shows here). With `skipZero`, a 0 is
 * not counted: the file is not there yet.
 */
export function watchLowest(probe: () => number, skipZero: boolean): () => number {
  let lowest = Number.POSITIVE_INFINITY;
  const timer = setInterval(() => {
    const size = probe();
    if (size > 0 || !skipZero) lowest = Math.min(lowest, size);
  }, 2);
  return () => {
    clearInterval(timer);
    return lowest;
  };
}

/** What watchedUploads counts: reservations made and bytes handed to the relay. */
export interface UploadWatch {
  creates: number;
  sent: number;
}

/**
 * `inner`'s uploads with `seen` counting reservations and the bytes handed to
 * the relay; `onChunk` runs after each chunk is counted, before it goes. It
 * only watches (a test acts at a point of progress, no timing decides).
 */
export function watchedUploads<W extends UploadWatch>(
  inner: () => BlobUploads,
  seen: W,
  onChunk: (seen: W, chunk: Uint8Array) => void = () => undefined,
): () => BlobUploads {
  return () => {
    const relay = inner();
    return {
      create: (length) => {
        seen.creates++;
        return relay.create(length);
      },
      offset: (upload) => relay.offset(upload),
      append: (upload, offset, data) =>
        relay.append(
          upload,
          offset,
          (async function* () {
            for await (const chunk of data) {
              seen.sent += chunk.length;
              onChunk(seen, chunk);
              yield chunk;
            }
          })(),
        ),
    };
  };
}
