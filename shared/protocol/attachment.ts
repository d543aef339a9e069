import { z } from 'zod';
import { PADDED_BASE64 } from './encoding.ts';

// Attachments (docs/message-format.md#attachments): each file is encrypted
// once under a fresh 64-byte key (AES-256-CBC + HMAC-SHA256, Signal's
// AttachmentV2 layout: IV ‖ ciphertext ‖ MAC), zero-padded to a 5 % size
// bucket first, uploaded to the sender's home relay as an opaque blob, and
// described to recipients by a pointer inside the end-to-end-encrypted message.

/** Largest plaintext a sender attaches (100 MiB). */
export const MAX_ATTACHMENT_BYTES = 100 * 1024 * 1024;
/** Key bytes: AES-256 key ‖ HMAC-SHA256 key. */
export const ATTACHMENT_KEY_BYTES = 64;
/**
 * Longest duration a pointer may state (24 hours, in ms): a bound on what a
 * receiver stores and shows; a sender omits the field for a longer file.
 */
export const MAX_DURATION_MS = 24 * 60 * 60 * 1000;
/** Bytes of the inline preview a pointer may carry (a small blurred JPEG made by the sender). */
export const MAX_PREVIEW_BYTES = 4 * 1024;

/** A relay's blob id: 16 random bytes, base64url without padding (22 characters). */
export const blobIdSchema = z.string().regex(/^[A-Za-z0-9_-]{22}$/);
export type BlobId = z.infer<typeof blobIdSchema>;

const MIN_PADDED = 541;

/** Plaintext size after zero padding: 5 % buckets, at least 541 bytes (Signal's logPadSize). */
export function paddedSize(size: number): number {
  if (!Number.isSafeInteger(size) || size < 0) throw new RangeError('bad attachment size');
  if (size <= MIN_PADDED) return MIN_PADDED;
  return Math.max(MIN_PADDED, Math.floor(1.05 ** Math.ceil(Math.log(size) / Math.log(1.05))));
}

/** Blob size for a plaintext of `size` bytes: IV, PKCS#7-padded CBC of the padded plaintext, MAC. */
export function ciphertextSize(size: number): number {
  return 16 + (Math.floor(paddedSize(size) / 16) + 1) * 16 + 32;
}

const base64Of = (bytes: number) =>
  z
    .string()
    .regex(PADDED_BASE64)
    .length(Math.ceil(bytes / 3) * 4);

/**
 * What a message carries about one attachment. Everything a recipient needs to
 * fetch, verify and decrypt the blob; the blob itself lives on the sender's
 * home relay (the recipient downloads from the relay it has on the sender's
 * contact record, never from an address the message names).
 */
export const attachmentPointerSchema = z.strictObject({
  blobId: blobIdSchema,
  /** 64 bytes: AES-256 key ‖ HMAC-SHA256 key, fresh per attachment. */
  key: base64Of(ATTACHMENT_KEY_BYTES),
  /** SHA-256 of the whole blob (IV ‖ ciphertext ‖ MAC). */
  digest: base64Of(32),
  /** Plaintext size in bytes (before padding): needed to strip the padding. */
  size: z.number().int().nonnegative().max(MAX_ATTACHMENT_BYTES),
  /** MIME type as the sender labelled it; the receiver treats it as a hint, never trusts it for rendering. */
  contentType: z
    .string()
    .max(128)
    .regex(/^[a-z0-9][a-z0-9!#$&^_.+-]*\/[a-z0-9][a-z0-9!#$&^_.+-]*$/),
  /** File name for documents (no path separators, no control characters); omitted for images and video. */
  fileName: z
    .string()
    .min(1)
    .max(255)
    // eslint-disable-next-line no-control-regex
    .regex(/^[^/\\\u0000-\u001f\u007f]+$/)
    .optional(),
  width: z.number().int().min(1).max(65_535).optional(),
  height: z.number().int().min(1).max(65_535).optional(),
  /** A tiny blurred JPEG shown until the blob is downloaded (made by the sender's renderer). */
  preview: z
    .string()
    .regex(PADDED_BASE64)
    .max(Math.ceil(MAX_PREVIEW_BYTES / 3) * 4)
    .optional(),
  /**
   * Playing time of a video or audio file in whole ms, 1 to MAX_DURATION_MS.
   * Accepted and stored since schema 18; senders leave it out until the
   * next release (docs/message-format.md#attachments: the two-release path).
   */
  durationMs: z.number().int().positive().max(MAX_DURATION_MS).optional(),
});
export type AttachmentPointer = z.infer<typeof attachmentPointerSchema>;

/**
 * Largest blob a relay accepts by default, in bytes of ciphertext: exactly
 * what a MAX_ATTACHMENT_BYTES file encrypts to (107,335,792 bytes; padding
 * adds up to 5 %). A relay may be configured lower or higher.
 */
export const MAX_BLOB_BYTES = ciphertextSize(MAX_ATTACHMENT_BYTES);

/** Attachments per message. */
export const MAX_ATTACHMENTS_PER_MESSAGE = 10;
