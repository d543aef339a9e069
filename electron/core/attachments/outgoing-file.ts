import { statSync } from 'node:fs';
import { basename, extname } from 'node:path';
import { Readable } from 'node:stream';
import { HIDDEN_CHARACTERS } from '../../../shared/protocol/hidden-characters.ts';
import {
  type AttachmentPointer,
  attachmentPointerSchema,
  MAX_ATTACHMENT_BYTES,
  MAX_ATTACHMENTS_PER_MESSAGE,
} from '../../../shared/protocol/attachment.ts';
import { MAX_BODY_CHARS } from '../../../shared/protocol/content.ts';
import { SottoError } from '../errors.ts';
import { contentTypeOf } from './content-types.ts';
import { readChunks } from './file-chunks.ts';

// The files a message is composed with, before anything is encrypted: the
// checks that refuse them (count, caption, size, not a readable file), their
// plaintext as a stream, and the labels their pointers carry (content type,
// a file name the receivers accept, dimensions). Sealing is compose-seal.ts.

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

/** A pointer without what only sealing and the upload give it (blob id, key, digest). */
export type PointerLabels = Omit<AttachmentPointer, 'blobId' | 'key' | 'digest'>;

/**
 * The sizes of `files` to compose with `caption`, checked before anything is
 * sealed: INVALID_INPUT for no files or too many, MESSAGE_TOO_LONG for a
 * caption over MAX_BODY_CHARS, and the refusals of sizeOf.
 */
export function checkedSizes(files: readonly OutgoingFile[], caption: string): number[] {
  if (files.length === 0 || files.length > MAX_ATTACHMENTS_PER_MESSAGE)
    throw new SottoError('INVALID_INPUT', 'attachment count');
  if (caption.length > MAX_BODY_CHARS) throw new SottoError('MESSAGE_TOO_LONG');
  return files.map(sizeOf);
}

/** The size of a file to attach: INVALID_INPUT when not a readable file, ATTACHMENT_TOO_LARGE over the limit. */
function sizeOf(file: OutgoingFile): number {
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

/** A failure reading a file to attach as the user meets it: its own SottoError, else INVALID_INPUT (no path, no OS text). */
export function readError(error: unknown): unknown {
  return error instanceof SottoError ? error : new SottoError('INVALID_INPUT', 'file not readable');
}

/** The plaintext of a file to attach, as a stream (read twice: once per encryption). */
export function plainOf(file: OutgoingFile, size: number): AsyncIterable<Uint8Array> {
  return 'bytes' in file ? Readable.from([file.bytes]) : readChunks(file.path, 0, size + 1);
}

/** The pointer's labels: type, and the file name for documents (images and video go without: metadata). */
export function pointerLabels(file: OutgoingFile, size: number): PointerLabels {
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
