import { ciphertextSize } from '../../../shared/protocol/attachment.ts';
import { SottoError } from '../errors.ts';
import type { Profile } from '../profile/profile.ts';
import type { BlobUploads } from '../sync/blobs.ts';
import { newAttachmentKey } from './attachment-crypto.ts';
import { ensureAttachmentDirs, type LocalCopy, removeFiles, storeLocally } from './local-files.ts';
import {
  pointerLabels,
  type OutgoingFile,
  plainOf,
  type PointerLabels,
  readError,
} from './outgoing-file.ts';
import { SealedStream } from './sealed-stream.ts';
import { type EarlyUpload, uploadWhileSealing } from './sealing-upload.ts';

// Sealing the files of a compose before their rows exist: one read of each
// file, two encryptions (the stored copy, on disk; the transport blob, only
// hashed for its digest, or handed to an upload that follows the seal). All
// or nothing: a failure or a Cancel deletes what the compose stored.

/** A file encrypted for sending and stored, before its row is written. */
export interface Prepared {
  readonly pointer: PointerLabels;
  readonly transportKey: Buffer;
  readonly digest: Buffer;
  readonly local: LocalCopy;
  /** The upload begun while sealing, if any (committed with the row; the upload job resumes it). */
  readonly early?: EarlyUpload;
}

/** How a compose may upload while it seals, and stop. */
export interface ComposeOptions {
  /** The home relay's uploads (the engine's RelayPool.homeBlobs): large files start uploading while sealed. */
  readonly uploads?: () => BlobUploads;
  /** Cancels the compose: sealing and the upload stop, nothing is stored (CANCELLED). */
  readonly signal?: AbortSignal;
  /** Told the plaintext bytes read so far of all the files, and their total, as the seal goes. */
  readonly progress?: (done: number, total: number) => void;
}

/** Files from this size start uploading while sealed: below it the seal ends before a reservation would arrive. */
export const UPLOAD_WHILE_SEALING_FROM = 4 * 1024 * 1024;

/** Encrypts every file for the relay and for the profile (all or nothing: files of a failure are deleted). */
export async function prepareFiles(
  profile: Profile,
  files: readonly OutgoingFile[],
  sizes: readonly number[],
  options: ComposeOptions = {},
): Promise<Prepared[]> {
  const dir = profile.paths.dir;
  ensureAttachmentDirs(dir);
  const prepared: Prepared[] = [];
  const total = sizes.reduce((sum, size) => sum + size, 0);
  let done = 0;
  const read = (bytes: number) => options.progress?.((done += bytes), total);
  try {
    for (const [index, file] of files.entries())
      prepared.push(await prepareFile(dir, file, sizes[index]!, options, read));
  } catch (error) {
    discard(profile, prepared);
    throw readError(error);
  }
  return prepared;
}

/** One file of prepareFiles, its upload following the seal when options allow. */
async function prepareFile(
  dir: string,
  file: OutgoingFile,
  size: number,
  { uploads, signal }: ComposeOptions,
  read: (bytes: number) => void,
): Promise<Prepared> {
  const transportKey = newAttachmentKey();
  const sealed = new SealedStream();
  const early =
    uploads && size >= UPLOAD_WHILE_SEALING_FROM
      ? uploadWhileSealing(uploads, ciphertextSize(size), sealed)
      : undefined;
  if (!early) sealed.drop(); // nobody follows: the blob is only hashed, for its digest
  const cancel = () => sealed.fail(new SottoError('CANCELLED', 'compose cancelled'));
  signal?.addEventListener('abort', cancel, { once: true });
  if (signal?.aborted) cancel(); // between two files: no event comes
  try {
    // One read of the file, two encryptions (a path is read one byte past `size`: a file that grew is refused).
    const { transportDigest: digest, ...local } = await storeLocally(
      dir,
      stopping(plainOf(file, size), sealed, read),
      size,
      { key: transportKey, push: sealed.push },
    );
    if (!digest) throw new SottoError('INTERNAL', 'transport digest');
    sealed.finish();
    const reserved = await early?.settle();
    if (signal?.aborted) {
      // A Cancel while the upload finished the blob still wins: nothing is kept (the blob is an orphan).
      removeFiles(dir, { local: [local.localName] });
      throw new SottoError('CANCELLED', 'compose cancelled');
    }
    return {
      pointer: pointerLabels(file, size),
      transportKey,
      digest,
      local,
      ...(reserved ? { early: reserved } : {}),
    };
  } catch (error) {
    sealed.fail(error);
    await early?.settle();
    throw error;
  } finally {
    signal?.removeEventListener('abort', cancel);
  }
}

/** `plain` (each chunk counted by `read`) until the seal is failed from outside (a cancel): then its error. */
async function* stopping(
  plain: AsyncIterable<Uint8Array>,
  sealed: SealedStream,
  read: (bytes: number) => void,
): AsyncGenerator<Uint8Array> {
  for await (const chunk of plain) {
    sealed.check();
    read(chunk.length);
    yield chunk;
  }
  sealed.check();
}

/** Deletes the files of prepared attachments whose row was never committed. */
export function discard(profile: Profile, prepared: readonly Prepared[]): void {
  removeFiles(profile.paths.dir, { local: prepared.map((p) => p.local.localName) });
}
