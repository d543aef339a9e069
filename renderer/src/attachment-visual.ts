// Width, height and a tiny preview of an image the user is sending, measured
// here in the sandboxed renderer from their own file (never in main or the
// core, and never for a received file: those are decoded only by <img> from
// the attachment: scheme). The preview is a 16-pixel JPEG, blurred when shown.
// A video's frame goes through the same preview (attachment-video.ts).

/** What the renderer measured of a file it sends (the contract's sentVisualSchema checks the shape). */
export interface MeasuredVisual {
  readonly width: number;
  readonly height: number;
  readonly preview?: string;
}

/** Longest side of the preview, in pixels: a placeholder, not a thumbnail. */
const PREVIEW_SIDE = 16;
/** The pointer's limit on preview bytes (shared/protocol/attachment.ts MAX_PREVIEW_BYTES). */
const MAX_PREVIEW_BYTES = 4 * 1024;

/** The pointer's limits on width and height (shared/protocol/attachment.ts). */
export function fitsPointer(width: number, height: number): boolean {
  return (
    Number.isInteger(width) &&
    Number.isInteger(height) &&
    width >= 1 &&
    height >= 1 &&
    width <= 65_535 &&
    height <= 65_535
  );
}

/** The size and preview of an image file, or undefined when it is not one this browser decodes. */
export async function measureImage(file: Blob): Promise<MeasuredVisual | undefined> {
  if (!file.type.startsWith('image/') || typeof createImageBitmap !== 'function') return undefined;
  let bitmap: ImageBitmap;
  try {
    bitmap = await createImageBitmap(file);
  } catch {
    return undefined; // not decodable: sent as a plain file, without dimensions
  }
  const { width, height } = bitmap;
  try {
    if (!fitsPointer(width, height)) return undefined;
    const preview = await previewOf(bitmap, width, height);
    return { width, height, ...(preview ? { preview } : {}) };
  } finally {
    bitmap.close();
  }
}

/**
 * A 16-pixel JPEG of `source` (an image, or a video's current frame) of
 * `width` × `height`, base64; undefined when it cannot be drawn or is too big.
 * The canvas is at most 16 pixels a side whatever the source claims.
 */
export async function previewOf(
  source: CanvasImageSource,
  width: number,
  height: number,
): Promise<string | undefined> {
  const scale = PREVIEW_SIDE / Math.max(width, height);
  const canvas = document.createElement('canvas');
  canvas.width = Math.max(1, Math.round(width * Math.min(1, scale)));
  canvas.height = Math.max(1, Math.round(height * Math.min(1, scale)));
  const context = canvas.getContext('2d');
  if (!context) return undefined;
  context.drawImage(source, 0, 0, canvas.width, canvas.height);
  const blob = await new Promise<Blob | null>((done) => canvas.toBlob(done, 'image/jpeg', 0.6));
  if (!blob || blob.size > MAX_PREVIEW_BYTES) return undefined;
  const bytes = new Uint8Array(await blob.arrayBuffer());
  let binary = '';
  for (const byte of bytes) binary += String.fromCharCode(byte);
  return btoa(binary);
}
