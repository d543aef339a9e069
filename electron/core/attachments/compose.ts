import { statSync } from 'node:fs';
import { basename, extname } from 'node:path';
import { Readable } from 'node:stream';
import type { AccountId } from '../../../shared/protocol/account-id.ts';
import { HIDDEN_CHARACTERS } from '../../../shared/protocol/hidden-characters.ts';
import {
  type AttachmentPointer,
  attachmentPointerSchema,
  ciphertextSize,
  MAX_ATTACHMENT_BYTES,
  MAX_ATTACHMENTS_PER_MESSAGE,
} from '../../../shared/protocol/attachment.ts';
import {
  encodeContent,
  MAX_BODY_CHARS,
  MAX_CONTENT_BYTES,
} from '../../../shared/protocol/content.ts';
import { toBase64 } from '../../../shared/protocol/encoding.ts';
import { ensureConversation } from '../contacts/contacts.ts';
import { assertCanSend } from '../crypto/trust.ts';
import { SottoError } from '../errors.ts';
import { messageInsert } from '../history/message-insert.ts';
import { indexNewMessages } from '../history/search-index.ts';
import { nextSentAt } from '../messaging/clock.ts';
import { newMessageId } from '../messaging/message-id.ts';
import type { QueuedMessage } from '../messaging/outbox.ts';
import type { Profile } from '../profile/profile.ts';
import type { Sql } from '../db/sqlite.ts';
import type { BlobUploads } from '../sync/blobs.ts';
import { newAttachmentKey } from './attachment-crypto.ts';
import { insertAttachment, type MessageRef, updateAttachment } from './attachment-rows.ts';
import { contentTypeOf } from './content-types.ts';
import { readChunks } from './file-chunks.ts';
import { ensureAttachmentDirs, type LocalCopy, removeFiles, storeLocally } from './local-files.ts';
import { SealedStream } from './sealed-stream.ts';
import { type EarlyUpload, uploadWhileSealing } from './sealing-upload.ts';

// Composing a message with files: each file is read once and encrypted twice
// before the message row exists, once for the profile (the stored copy, on
// disk) and once for the relay (the transport blob, whose digest the row
// keeps; its bytes are written nowhere: its IV follows from its key, so the
// upload job re-derives them from the stored copy, blob-source.ts). Given the
// home relay's uploads, a large file's blob is uploaded as it is sealed
// (sealing-upload.ts) and its reservation is committed with the row. The
// message is queued for sending only when every upload is complete
// (upload-job.ts): nothing goes out pointing at a blob that is not there yet (R2).

/** What the sender's renderer measured of an image or video it decoded itself (checked by the contract's schema). */
export interface Visual {
  readonly width: number;
  readonly height: number;
  /** A tiny blurred JPEG, base64 (at most MAX_PREVIEW_BYTES). */
  readonly preview?: string;
}

/**
 * A file to attach: one on disk (the CLI, main's open dialog), or bytes the
 * app got by drag and drop or paste, encrypted straight from memory (never
 * written anywhere in plaintext).
 */
export type OutgoingFile = (
  { readonly path: string } | { readonly name: string; readonly bytes: Uint8Array }
) & {
  /** MIME type; guessed from the extension when omitted. */
  readonly contentType?: string;
  readonly visual?: Visual;
};

/** A file encrypted for sending and stored, before its row is written. */
export interface Prepared {
  readonly pointer: Omit<AttachmentPointer, 'blobId' | 'key' | 'digest'>;
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

/**
 * Stores a message with `files` (and `caption` as its body) and its uploads,
 * in one transaction after the files were encrypted; the upload job sends it.
 * ATTACHMENT_TOO_LARGE for a file over MAX_ATTACHMENT_BYTES, INVALID_INPUT
 * for anything that is not a readable file, and the refusals of queueText.
 */
export async function queueAttachmentMessage(
  profile: Profile,
  accountId: AccountId,
  files: readonly OutgoingFile[],
  caption = '',
  now = Date.now(),
  options: ComposeOptions = {},
): Promise<QueuedMessage> {
  if (files.length === 0 || files.length > MAX_ATTACHMENTS_PER_MESSAGE)
    throw new SottoError('INVALID_INPUT', 'attachment count');
  if (caption.length > MAX_BODY_CHARS) throw new SottoError('MESSAGE_TOO_LONG');
  const sizes = files.map(sizeOf);
  assertCanSend(profile, accountId);
  const prepared = await prepareFiles(profile, files, sizes, options);
  try {
    assertFits(caption, prepared);
    return profile.commit(undefined, (db) => {
      const contact = db
        .prepare('SELECT blocked FROM contacts WHERE account_id = ?')
        .get<{ blocked: number }>([accountId]);
      if (!contact) throw new SottoError('UNKNOWN_CONTACT');
      if (contact.blocked === 1) throw new SottoError('CONTACT_BLOCKED');
      const uuid = newMessageId(now);
      const sentAt = nextSentAt(db, profile.account.accountId, profile.account.deviceId, now);
      const conversationId = ensureConversation(db, accountId, now);
      const id = messageInsert(db)({
        uuid,
        conversationId,
        outgoing: true,
        senderAccount: profile.account.accountId,
        senderDevice: profile.account.deviceId,
        sentAt,
        receivedAt: now,
        body: caption,
        status: 'queued',
      });
      if (id === undefined) throw new SottoError('INTERNAL', 'message id collision');
      insertPrepared(db, { messageId: id }, prepared, now);
      indexNewMessages(db);
      db.prepare(
        'UPDATE conversations SET last_message_at = max(coalesce(last_message_at, 0), ?), draft = NULL WHERE id = ?',
      ).run([sentAt, conversationId]);
      return { id, uuid, conversationId, sentAt };
    });
  } catch (error) {
    discard(profile, prepared);
    throw error;
  }
}

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
      pointer: labels(file, size),
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

/** Inserts the rows of prepared attachments to send, with the reservations of their early uploads. */
export function insertPrepared(
  db: Sql,
  ref: MessageRef,
  prepared: readonly Prepared[],
  now: number,
): void {
  prepared.forEach(({ early, ...file }, position) => {
    const id = insertAttachment(
      db,
      ref,
      // Sealed just now under the IV its key derives: the upload job can make the blob again.
      { position, outgoing: true, state: 'uploading', rederivable: true, ...file },
      now,
    );
    if (!early) return;
    updateAttachment(db, id, {
      blob_id: early.upload.blobId,
      upload_token: early.upload.uploadToken,
      upload_length: early.upload.length,
      upload_expires_at: early.upload.expiresAt,
      transfer_offset: early.offset,
    });
  });
}

/** Deletes the files of prepared attachments whose row was never committed. */
export function discard(profile: Profile, prepared: readonly Prepared[]): void {
  removeFiles(profile.paths.dir, { local: prepared.map((p) => p.local.localName) });
}

/** The encoded message must fit MAX_CONTENT_BYTES with its pointers (the one size rule, checked at compose). */
export function assertFits(caption: string, prepared: readonly Prepared[]): void {
  const pointers = prepared.map((p) => ({
    ...p.pointer,
    blobId: 'A'.repeat(22),
    key: toBase64(p.transportKey),
    digest: toBase64(p.digest),
  }));
  const payload = encodeContent({
    v: 1,
    type: 'text',
    id: '00000000-0000-4000-8000-000000000000',
    sentAt: Number.MAX_SAFE_INTEGER,
    body: caption,
    name: 'x'.repeat(128),
    token: toBase64(new Uint8Array(16)),
    attachments: pointers,
  });
  if (payload.length > MAX_CONTENT_BYTES) throw new SottoError('MESSAGE_TOO_LONG');
}

/** The plaintext of a file to attach, as a stream (read twice: once per encryption). */
function plainOf(file: OutgoingFile, size: number): AsyncIterable<Uint8Array> {
  return 'bytes' in file ? Readable.from([file.bytes]) : readChunks(file.path, 0, size + 1);
}

/** The size of a file to attach: INVALID_INPUT when not a readable file, ATTACHMENT_TOO_LARGE over the limit. */
export function sizeOf(file: OutgoingFile): number {
  if ('bytes' in file) {
    if (file.bytes.length > MAX_ATTACHMENT_BYTES) throw new SottoError('ATTACHMENT_TOO_LARGE');
    return file.bytes.length;
  }
  let size: number;
  try {
    const stats = statSync(file.path);
    if (!stats.isFile()) throw new SottoError('INVALID_INPUT', 'not a file');
    size = stats.size;
  } catch (error) {
    throw readError(error);
  }
  if (size > MAX_ATTACHMENT_BYTES) throw new SottoError('ATTACHMENT_TOO_LARGE');
  return size;
}

function readError(error: unknown): unknown {
  return error instanceof SottoError ? error : new SottoError('INVALID_INPUT', 'file not readable');
}

/** The pointer's labels: type, and the file name for documents (images and video go without: metadata). */
function labels(file: OutgoingFile, size: number): Prepared['pointer'] {
  const name = 'bytes' in file ? file.name : basename(file.path);
  const contentType = file.contentType ?? contentTypeOf(extname(name));
  const media = contentType.startsWith('image/') || contentType.startsWith('video/');
  const fileName = media ? undefined : safeFileName(name);
  // Dimensions and preview only for an image or a video (the sender's renderer decoded it).
  const visual = media ? file.visual : undefined;
  const pointer = {
    size,
    contentType,
    ...(fileName ? { fileName } : {}),
    ...(visual ? { width: visual.width, height: visual.height } : {}),
    ...(visual?.preview ? { preview: visual.preview } : {}),
  };
  const checked = attachmentPointerSchema
    .omit({ blobId: true, key: true, digest: true })
    .safeParse(pointer);
  if (!checked.success) throw new SottoError('INVALID_INPUT', 'content type');
  return checked.data;
}

/**
 * A name the pointer schema accepts: C0 controls and separators replaced, the
 * other hidden characters (bidi overrides, C1 controls: receivers drop them
 * too) removed, at most 255 characters.
 */
function safeFileName(name: string): string | undefined {
  const cleaned = name
    // eslint-disable-next-line no-control-regex
    .replace(/[/\\\u0000-\u001f\u007f]/g, '_')
    .replace(HIDDEN_CHARACTERS, '')
    .slice(0, 255);
  return cleaned.length > 0 ? cleaned : undefined;
}
