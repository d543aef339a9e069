// Width, height and a tiny preview of an image the user is sending, measured
// here in the sandboxed renderer from their own file (never in main or the
// core, and never for a received file: those are decoded only by <img> from
// the attachment: scheme). The preview is a 16-pixel JPEG, blurred when shown.

/** Longest side of the preview, in pixels: a placeholder, not a thumbnail. */
const PREVIEW_SIDE = 16;
/** The pointer's limit on preview bytes (shared/protocol/attachment.ts MAX_PREVIEW_BYTES). */
const MAX_PREVIEW_BYTES = 4 * 1024;

/** The size and preview of an image file, or undefined when it is not one this browser decodes. */
export async function measureImage(
  file: Blob,
): Promise<{ width: number; height: number; preview?: string } | undefined> {
  if (!file.type.startsWith('image/') || typeof createImageBitmap !== 'function') return undefined;
  let bitmap: ImageBitmap;
  try {
    bitmap = await createImageBitmap(file);
  } catch {
    return undefined; // not decodable: sent as a plain file, without dimensions
  }
  const { width, height } = bitmap;
  try {
    if (width < 1 || height < 1 || width > 65_535 || height > 65_535) return undefined;
    const preview = await previewOf(bitmap);
    return { width, height, ...(preview ? { preview } : {}) };
  } finally {
    bitmap.close();
  }
}

async function previewOf(bitmap: ImageBitmap): Promise<string | undefined> {
  const scale = PREVIEW_SIDE / Math.max(bitmap.width, bitmap.height);
  const canvas = document.createElement('canvas');
  canvas.width = Math.max(1, Math.round(bitmap.width * Math.min(1, scale)));
  canvas.height = Math.max(1, Math.round(bitmap.height * Math.min(1, scale)));
  const context = canvas.getContext('2d');
  if (!context) return undefined;
  context.drawImage(bitmap, 0, 0, canvas.width, canvas.height);
  const blob = await new Promise<Blob | null>((done) => canvas.toBlob(done, 'image/jpeg', 0.6));
  if (!blob || blob.size > MAX_PREVIEW_BYTES) return undefined;
  const bytes = new Uint8Array(await blob.arrayBuffer());
  let binary = '';
  for (const byte of bytes) binary += String.fromCharCode(byte);
  return btoa(binary);
}
