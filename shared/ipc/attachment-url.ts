// The URLs of main's attachment: scheme (docs/architecture.md#attachments-in-the-app).
// The renderer names a stored file by attachment id only: never a path, a
// blob id or a key. Main looks the id up through the core and decrypts on the fly.

/** The scheme main registers (privileged: standard, secure, stream, fetch). */
export const ATTACHMENT_SCHEME = 'attachment';
/** The one host: decrypted media of downloaded attachments. */
export const ATTACHMENT_MEDIA_HOST = 'media';

/** The URL the renderer loads an attachment's image, video or audio from. */
export function attachmentMediaUrl(id: number): string {
  return `${ATTACHMENT_SCHEME}://${ATTACHMENT_MEDIA_HOST}/${id}`;
}

/** The attachment id a scheme URL names, or undefined for anything else (other hosts, paths, queries). */
export function attachmentIdOfUrl(url: string): number | undefined {
  const match = /^attachment:\/\/media\/([1-9][0-9]{0,15})$/.exec(url);
  if (!match?.[1]) return undefined;
  const id = Number(match[1]);
  return Number.isSafeInteger(id) ? id : undefined;
}

/** Media types the scheme serves (and so the only ones the renderer decodes from it). */
export const MEDIA_TYPES: ReadonlySet<string> = new Set([
  'image/jpeg',
  'image/png',
  'image/gif',
  'image/webp',
  'video/mp4',
  'video/webm',
  'audio/ogg',
  'audio/mpeg',
  'audio/mp4',
]);

/** How the app shows an attachment: an inline image, a video or audio player, or a file card. */
export function mediaKindOf(contentType: string): 'image' | 'video' | 'audio' | 'file' {
  if (!MEDIA_TYPES.has(contentType)) return 'file';
  return contentType.startsWith('image/')
    ? 'image'
    : contentType.startsWith('video/')
      ? 'video'
      : 'audio';
}
