// The renderer's origin and Content-Security-Policy. No 'electron' import: the
// Chromium e2e harness serves the built renderer with the same policy.

/** The privileged scheme and host the renderer is served from (`app://sotto/`). */
export const APP_SCHEME = 'app';
export const APP_HOST = 'sotto';
/** `scheme://host` of the renderer (WHATWG gives custom schemes an opaque origin, so compare this). */
export const APP_ORIGIN = `${APP_SCHEME}://${APP_HOST}`;
/** The page main loads. */
export const APP_ENTRY_URL = `${APP_ORIGIN}/index.html`;

/**
 * Sent as a response header on every renderer file. Nothing but our own
 * scripts, styles, fonts and images (plus data: images for QR codes and
 * previews, attachment: images, video and audio, blob: video the user is
 * sending); no
 * network at all (`connect-src 'none'`), no frames, no forms, no plugins.
 */
export const CONTENT_SECURITY_POLICY = [
  "default-src 'none'",
  "script-src 'self'",
  "style-src 'self'",
  // attachment: is main's decrypting scheme (attachment-scheme/); data: carries the
  // QR codes and a pointer's tiny blurred preview. Nothing remote. blob: only for
  // media: the renderer measures a video the user is sending from an object URL
  // of their own bytes (attachment-video.ts); only this page's scripts mint one.
  "img-src 'self' data: attachment:",
  'media-src attachment: blob:',
  "font-src 'self'",
  "connect-src 'none'",
  "base-uri 'none'",
  "form-action 'none'",
  "frame-ancestors 'none'",
  "object-src 'none'",
].join('; ');

/** Headers on every response of the app protocol, including refusals. */
export const SECURITY_HEADERS: Readonly<Record<string, string>> = {
  'Content-Security-Policy': CONTENT_SECURITY_POLICY,
  'X-Content-Type-Options': 'nosniff',
  'Referrer-Policy': 'no-referrer',
  'Cross-Origin-Opener-Policy': 'same-origin',
  'Cross-Origin-Resource-Policy': 'same-origin',
};

/** `protocol://host` of a URL, or undefined if it does not parse. */
export function originOf(url: string): string | undefined {
  try {
    const parsed = new URL(url);
    return `${parsed.protocol}//${parsed.host}`;
  } catch {
    return undefined;
  }
}
