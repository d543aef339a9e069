import { z } from 'zod';
import { attachmentPointerSchema } from '../protocol/attachment.ts';
import { mediaKindOf } from './attachment-url.ts';

// Files picked with the Attach button (docs/architecture.md#attachments-in-the-app).
// Main's open dialog answers with opaque pick tokens, never paths: the renderer
// reads a picked image's or video's bytes by token (at most
// MAX_PICKED_MEDIA_BYTES) to measure it and draw its preview itself, as for a
// dropped file, then sends
// the tokens. Main keeps the token → path table; tokens are single-use,
// expire, and only the window that picked them may use them.

/** A pick token: 32 random bytes, base64url without padding. */
export const pickTokenSchema = z.string().regex(/^[A-Za-z0-9_-]{43}$/, 'a pick token');

/**
 * Largest picked image or video whose bytes the renderer may read to measure
 * it: the drag-and-drop cap. A video is read whole, not a prefix: an MP4 often
 * keeps its index (moov) at the end, and without it no frame decodes.
 */
export const MAX_PICKED_MEDIA_BYTES = 25 * 1024 * 1024;

/** Whether the renderer measures a picked file: an image or video type it decodes, at most MAX_PICKED_MEDIA_BYTES. */
export function isMeasurable(contentType: string, size: number): boolean {
  const kind = mediaKindOf(contentType);
  return (kind === 'image' || kind === 'video') && size <= MAX_PICKED_MEDIA_BYTES;
}

/** What the renderer learns of a picked file: a token, the name, the size, the type main guessed from the name. */
export const pickedFileSchema = z
  .object({
    token: pickTokenSchema,
    name: z.string().min(1).max(255),
    size: z.number().int().nonnegative(),
    contentType: z.string().max(255),
    /** True when the renderer may read its bytes (isMeasurable: an image or video type, at most MAX_PICKED_MEDIA_BYTES). */
    measurable: z.boolean(),
  })
  .strict();
export type PickedFileView = z.infer<typeof pickedFileSchema>;

/** base64 of a JPEG's first bytes (FF D8 FF): a preview is checked to be one without decoding it. */
const JPEG_BASE64_PREFIX = '/9j/';

/**
 * What the sandboxed renderer measured of the user's own image or video
 * (a frame of it): width, height and the blurred preview. Only the shape is checked here (a JPEG's
 * signature, the pointer's size limits), as for any sender.
 */
export const sentVisualSchema = attachmentPointerSchema
  .pick({ width: true, height: true, preview: true })
  .required({ width: true, height: true })
  .strict()
  .refine((v) => v.preview === undefined || v.preview.startsWith(JPEG_BASE64_PREFIX), {
    message: 'the preview is not a JPEG',
    path: ['preview'],
  });

/** A picked file in a send: its token, and what the renderer measured of it (images and video only). */
export const pickedSendSchema = z
  .object({ token: pickTokenSchema, visual: sentVisualSchema.optional() })
  .strict();
