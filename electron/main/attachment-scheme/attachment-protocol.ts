// Main's attachment: scheme (docs/architecture.md#attachments-in-the-app):
// the renderer loads `attachment://media/<id>` in <img>, <video> and <audio>;
// main asks the core where that stored copy is and streams it decrypted.
import type { CustomScheme, Protocol } from 'electron';
import { ATTACHMENT_SCHEME } from '../../../shared/ipc/attachment-url.ts';
import { mediaFetchResponse, type MediaLookup } from './media-response.ts';

/**
 * The scheme's privileges (registered with app://, before `ready`):
 * standard and secure (a real origin in a secure context), stream (media
 * elements read it progressively and seek with Range), fetch API. Not
 * bypassCSP: the page's CSP must name it (img-src, media-src).
 */
export const ATTACHMENT_SCHEME_PRIVILEGES: CustomScheme = {
  scheme: ATTACHMENT_SCHEME,
  privileges: { standard: true, secure: true, stream: true, supportFetchAPI: true },
};

/** Serves the scheme from the stored copies `lookup` finds (CoreHost.mediaSource in the app). */
export function serveAttachments(target: Protocol, lookup: MediaLookup): void {
  target.handle(ATTACHMENT_SCHEME, (request) => mediaFetchResponse(request, lookup));
}
