// Window and session hardening (Electron's security checklist): sandboxed,
// isolated renderer without Node; the renderer served from app:// with a strict
// CSP header; no navigation, no new windows, no webviews, no permissions.
import { readFile } from 'node:fs/promises';
import {
  type BrowserWindowConstructorOptions,
  type Protocol,
  protocol,
  type Session,
  shell,
  type WebContents,
} from 'electron';
import { log } from '../core/log.ts';
import { ATTACHMENT_SCHEME_PRIVILEGES } from './attachment-scheme/attachment-protocol.ts';
import { inBackground } from './background.ts';
import { APP_SCHEME, originOf, SECURITY_HEADERS } from './csp.ts';
import { contentTypeOf, rendererFileFor } from './renderer-files.ts';

/**
 * Registers app:// as a standard, secure scheme (relative URLs, a real origin,
 * a secure context), and attachment:// for media. Must run before `ready`.
 * No `bypassCSP`: the CSP header applies to everything it serves.
 */
export function registerAppScheme(): void {
  protocol.registerSchemesAsPrivileged([
    {
      scheme: APP_SCHEME,
      // supportFetchAPI/corsEnabled: Vite's `<script type="module" crossorigin>` loads
      // through a CORS-mode fetch. Responses carry no Access-Control-Allow-Origin,
      // so no other origin can read them.
      privileges: {
        standard: true,
        secure: true,
        supportFetchAPI: true,
        corsEnabled: true,
        codeCache: true,
      },
    },
    // Registered in the same call: Electron keeps only the last list it is given.
    ATTACHMENT_SCHEME_PRIVILEGES,
  ]);
}

function refusal(status: 404 | 405): Response {
  return new Response(status === 404 ? 'Not found' : 'Method not allowed', {
    status,
    headers: { ...SECURITY_HEADERS, 'Content-Type': 'text/plain; charset=utf-8' },
  });
}

/** The app:// request handler: files of `root` only, every response with the CSP header. */
export function rendererRequestHandler(root: string): (request: Request) => Promise<Response> {
  return async (request) => {
    if (request.method !== 'GET' && request.method !== 'HEAD') return refusal(405);
    const file = rendererFileFor(root, request.url);
    if (!file) return refusal(404);
    let body: Buffer;
    try {
      body = await readFile(file);
    } catch {
      return refusal(404);
    }
    return new Response(request.method === 'HEAD' ? null : new Uint8Array(body), {
      status: 200,
      headers: { ...SECURITY_HEADERS, 'Content-Type': contentTypeOf(file) },
    });
  };
}

/** Serves the built renderer (`root`, i.e. out/renderer) on app://sotto/. */
export function serveRenderer(target: Protocol, root: string): void {
  target.handle(APP_SCHEME, rendererRequestHandler(root));
}

/**
 * The main window's options: the preload is ours, everything else locked down.
 * `devTools` is false in a packaged build: no way to open them at all.
 */
export function mainWindowOptions(
  preload: string,
  options: { readonly devTools: boolean },
): BrowserWindowConstructorOptions {
  return {
    width: 1100,
    height: 760,
    minWidth: 720,
    minHeight: 480,
    show: false,
    title: 'Sotto',
    webPreferences: {
      preload,
      contextIsolation: true,
      sandbox: true,
      nodeIntegration: false,
      nodeIntegrationInWorker: false,
      nodeIntegrationInSubFrames: false,
      webSecurity: true,
      allowRunningInsecureContent: false,
      webviewTag: false,
      experimentalFeatures: false,
      navigateOnDragDrop: false,
      safeDialogs: true,
      spellcheck: false,
      devTools: options.devTools,
    },
  };
}

/** True for a URL we hand to the OS browser: parsed, `https:` only, no credentials. */
export function isSafeExternalUrl(url: string): boolean {
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    return false;
  }
  return (
    parsed.protocol === 'https:' && parsed.hostname !== '' && !parsed.username && !parsed.password
  );
}

/** Opens `url` in the OS browser if it is a safe https URL; returns whether it did. */
export function openExternalIfSafe(url: string): boolean {
  if (!isSafeExternalUrl(url)) {
    log.warn('security.external_url_refused');
    return false;
  }
  const href = new URL(url).href; // normalized: what was checked is what is opened
  inBackground('security.open_external_failed', () => shell.openExternal(href));
  return true;
}

/**
 * Hardens any web contents (app-wide, from `web-contents-created`): no
 * navigation or redirect away from the loaded page, no new windows (https
 * links open in the OS browser), no <webview>.
 */
export function hardenWebContents(contents: WebContents): void {
  contents.on('will-navigate', (event) => {
    event.preventDefault();
    log.warn('security.navigation_refused');
  });
  contents.on('will-redirect', (event) => {
    event.preventDefault();
    log.warn('security.redirect_refused');
  });
  contents.on('will-attach-webview', (event) => {
    event.preventDefault();
    log.warn('security.webview_refused');
  });
  contents.setWindowOpenHandler(({ url }) => {
    openExternalIfSafe(url);
    return { action: 'deny' };
  });
}

/** The one permission the renderer gets: writing text to the clipboard (the invite's Copy button). */
export const ALLOWED_PERMISSION = 'clipboard-sanitized-write';

/**
 * Denies every permission request and check (camera, microphone, geolocation,
 * notifications, clipboard read, HID/USB/serial...) except a sanitized
 * clipboard write from our own origin: write-only, plain text, and what the
 * "copy invite link" button needs. Notifications need no permission: main
 * shows them with Electron's Notification, not the renderer's API.
 */
export function hardenSession(target: Session, trustedOrigin: string): void {
  const allowed = (permission: string, url: string | undefined) =>
    permission === ALLOWED_PERMISSION && url !== undefined && originOf(url) === trustedOrigin;
  target.setPermissionRequestHandler((_contents, permission, callback, details) => {
    const granted = allowed(permission, details.requestingUrl);
    if (!granted) log.warn('security.permission_refused');
    callback(granted);
  });
  target.setPermissionCheckHandler((_contents, permission, requestingOrigin) =>
    allowed(permission, requestingOrigin),
  );
  target.setDevicePermissionHandler(() => false);
}
