// Every request the renderer's session makes goes through this filter
// (`session.webRequest.onBeforeRequest`): only our own app:// origin is let
// through, so even a compromised renderer that slipped past the CSP cannot
// reach the network. Relays are contacted by the core in its worker thread
// with Node's sockets, which never pass through Chromium's network stack.
import type { Session } from 'electron';
import { ATTACHMENT_MEDIA_HOST, ATTACHMENT_SCHEME } from '../../shared/ipc/attachment-url.ts';
import { log } from '../core/log.ts';
import { APP_ORIGIN, originOf } from './csp.ts';

/** Schemes that never leave the process: inline images (QR codes) and in-memory blobs. */
const LOCAL_SCHEMES: ReadonlySet<string> = new Set(['data:', 'blob:']);

/**
 * The origins the renderer may load from: app://sotto and attachment://media, plus in an unpackaged
 * development build the electron-vite dev server (http and its hot-reload
 * WebSocket) and DevTools' own pages.
 */
export function allowedOrigins(devServer: string | undefined): ReadonlySet<string> {
  // attachment://media: main's own decrypting scheme, never the network.
  const origins = new Set([APP_ORIGIN, `${ATTACHMENT_SCHEME}://${ATTACHMENT_MEDIA_HOST}`]);
  const dev = devServer === undefined ? undefined : originOf(devServer);
  if (dev) {
    origins.add(dev);
    origins.add(dev.replace(/^http/, 'ws')); // Vite's HMR socket on the same host and port
    origins.add('devtools://devtools');
  }
  return origins;
}

/** True if the renderer may make this request: an allowed origin, or a scheme that is not network. */
export function isAllowedRequest(url: string, origins: ReadonlySet<string>): boolean {
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    return false;
  }
  if (LOCAL_SCHEMES.has(parsed.protocol)) return true;
  if (parsed.username || parsed.password) return false;
  const origin = originOf(url);
  return origin !== undefined && origins.has(origin);
}

/** Installs the filter on `target`: refused requests are cancelled and logged without their URL. */
export function filterRendererRequests(target: Session, origins: ReadonlySet<string>): void {
  target.webRequest.onBeforeRequest((details, callback) => {
    const allowed = isAllowedRequest(details.url, origins);
    if (!allowed) log.warn('security.request_refused');
    callback({ cancel: !allowed });
  });
}
