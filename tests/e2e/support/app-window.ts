import { createReadStream, existsSync, mkdirSync, statSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { type Browser, chromium, type Page } from 'playwright-core';
import {
  EVENT_NAMES,
  isFileMethod,
  isMethodName,
  METHOD_NAMES,
  methods,
} from '../../../shared/ipc/contract.ts';
import { CoreHost } from '../../../electron/main/core-host.ts';
import { APP_ORIGIN, SECURITY_HEADERS } from '../../../electron/main/csp.ts';
import { mediaResponse } from '../../../electron/main/attachment-scheme/media-response.ts';
import { PickRegistry } from '../../../electron/main/attachment-picks.ts';
import {
  answerPickCall,
  isPickMethod,
  sendPickedFiles,
} from '../../../electron/main/pick-calls.ts';
import { contentTypeOf, rendererFileFor } from '../../../electron/main/renderer-files.ts';
import { checkSendCall, SendOwners } from '../../../electron/main/send-owners.ts';
import { TEST_KDF } from '../../support/test-kdf.ts';
import { RENDERER } from './renderer-build.ts';

export { buildRenderer } from './renderer-build.ts';

// The app in Chromium, without vitest (the e2e harness and the benchmarks
// share it). Electron cannot run on these machines, so each user is:
// the built renderer (out/renderer) in real headless Chromium, served with the
// app's own Content-Security-Policy, and a real core in a worker thread
// (CoreHost, the same host Electron's main process uses). The preload's role —
// `window.sotto`, one function per contract method plus `on` — is played by an
// init script whose functions call into this process through a Playwright
// binding; the core's push events are delivered back with page.evaluate.

const ROOT = fileURLToPath(new URL('../../../', import.meta.url));
export const ARTIFACTS = join(ROOT, 'test-artifacts');

const CHROMIUM = process.env['SOTTO_CHROMIUM'] ?? '/usr/bin/chromium';
const CHROMIUM_ARGS = [
  '--no-sandbox',
  '--disable-gpu',
  '--disable-quic',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
  '--no-first-run',
];

/**
 * Serves out/renderer on loopback exactly as main's app:// handler does: the
 * same path guard (rendererFileFor), content types and security headers (CSP).
 */
export async function serveRenderer(): Promise<{ url: string; close: () => Promise<void> }> {
  const server: Server = createServer((request, response) => {
    const file = rendererFileFor(RENDERER, `${APP_ORIGIN}${request.url ?? '/'}`);
    if (!file || !existsSync(file) || !statSync(file).isFile()) {
      response.writeHead(404, SECURITY_HEADERS).end();
      return;
    }
    response.writeHead(200, { ...SECURITY_HEADERS, 'Content-Type': contentTypeOf(file) });
    createReadStream(file).pipe(response);
  });
  await new Promise<void>((done) => server.listen(0, '127.0.0.1', done));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}/index.html`,
    close: () => new Promise((done) => server.close(() => done())),
  };
}

export function launchChromium(): Promise<Browser> {
  return chromium.launch({ executablePath: CHROMIUM, args: CHROMIUM_ARGS, headless: true });
}

/** One person at the app: a Chromium page on a real core. */
export interface AppWindow {
  readonly page: Page;
  readonly host: CoreHost;
  readonly profileDir: string;
  /** Everything the page logged as an error, and CSP violations. */
  readonly problems: string[];
  /**
   * https URLs the window asked to open (window.open): Electron's main hands
   * these to its window-open handler (openExternalIfSafe); here they are
   * recorded and never fetched.
   */
  readonly externalOpens: string[];
  /**
   * What the next save/open dialogs return, in order (main shows a native
   * dialog for file methods; here the test decides). Empty: the user closed it.
   */
  readonly dialogFiles: string[];
  /** Every attachment: request the page made, as answered. */
  readonly mediaRequests: MediaRequest[];
  /**
   * What the Attach button's dialog returns next (several files each), in
   * order; empty: the user closed it. The picks go through main's own
   * PickRegistry and pick-calls.ts, as in the app.
   */
  readonly pickFiles: string[][];
  /** Every IPC call the page made, as it crossed (input and result, bytes as base64). */
  readonly ipcLog: { method: string; input: unknown; output: unknown }[];
  close(): Promise<void>;
}

/** One request of the attachment: scheme and its status. */
export interface MediaRequest {
  readonly url: string;
  readonly range: string | null;
  readonly status: number;
  /** ms main's module took to answer it, body read (what the app's protocol handler does). */
  readonly answerMs: number;
  /** ms Playwright took to hand that answer to Chromium (the harness's cost, not the app's); NaN until then. */
  readonly fulfillMs: number;
}

/** Main's pick table: one per process, as in the app; each window is its own owner. */
const picks = new PickRegistry();
/** Main's send owners, likewise. */
const sends = new SendOwners();
let nextOwner = 1;

/** A result as it crosses a Playwright binding (JSON): ArrayBuffers as `{ __bytes: base64 }`. */
function toWire(value: unknown): unknown {
  if (value instanceof ArrayBuffer) return { __bytes: Buffer.from(value).toString('base64') };
  if (Array.isArray(value)) return value.map(toWire);
  if (value && typeof value === 'object')
    return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, toWire(v)]));
  return value;
}

/** The inverse of the init script's toWire: `{ __bytes: base64 }` back to an ArrayBuffer. */
function fromWire(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(fromWire);
  if (value && typeof value === 'object') {
    const bytes = (value as { __bytes?: unknown }).__bytes;
    if (typeof bytes === 'string') {
      const buffer = Buffer.from(bytes, 'base64');
      return buffer.buffer.slice(buffer.byteOffset, buffer.byteOffset + buffer.byteLength);
    }
    return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, fromWire(v)]));
  }
  return value;
}

/** Opens the app for `profileDir`: starts its core and loads the renderer in a fresh browser context. */
export async function openApp(
  browser: Browser,
  rendererUrl: string,
  profileDir: string,
): Promise<AppWindow> {
  const host = await CoreHost.start({ profileDir, kdfCost: TEST_KDF });
  const context = await browser.newContext({
    viewport: { width: 1200, height: 800 },
    locale: 'en-US',
  });
  const page = await context.newPage();
  const problems: string[] = [];
  const externalOpens: string[] = [];
  // Only the renderer's own loopback server is ever loaded: an https page is a
  // link being opened. It is answered locally (never fetched) and the window's
  // URL recorded once it commits (a request URL would lack the #fragment).
  await context.route('https://**/*', (route) =>
    route.fulfill({ status: 200, contentType: 'text/plain', body: '' }),
  );
  context.on('page', (opened) => {
    if (opened === page) return;
    opened
      .waitForURL(/^https:/, { timeout: 60_000 })
      .then(() => {
        externalOpens.push(opened.url());
        return opened.close();
      })
      .catch(() => undefined); // closed with the suite
  });
  // Main's attachment: scheme, served by the SAME module main's protocol.handle
  // calls (mediaResponse), over this window's core (CoreHost.mediaSource, as in
  // the app). Playwright intercepts the custom scheme's requests; each answer
  // is recorded so tests can check statuses and ranges.
  const mediaRequests: MediaRequest[] = [];
  await page.route(/^attachment:/, async (route) => {
    const request = route.request();
    const range = (await request.allHeaders())['range'] ?? null;
    const started = performance.now();
    const answer = await mediaResponse(
      { url: request.url(), method: request.method(), range },
      (id) => host.mediaSource(id),
    );
    const chunks: Buffer[] = [];
    for await (const chunk of answer.body ?? []) chunks.push(chunk);
    const answered = performance.now();
    // Recorded before the page can see the answer (tests read it once it shows), timed after.
    const timed = {
      url: request.url(),
      range,
      status: answer.status,
      answerMs: answered - started,
      fulfillMs: NaN,
    };
    mediaRequests.push(timed);
    await route.fulfill({
      status: answer.status,
      headers: { ...answer.headers },
      body: Buffer.concat(chunks),
    });
    timed.fulfillMs = performance.now() - answered;
  });
  page.on('console', (message) => {
    if (message.type() === 'error') problems.push(message.text());
  });
  page.on('pageerror', (error) => problems.push(error.message));

  const dialogFiles: string[] = [];
  const pickFiles: string[][] = [];
  const ipcLog: AppWindow['ipcLog'] = [];
  const owner = nextOwner++;
  // As main's IPC layer does: validate a file method's input before the "dialog", CANCELLED if none is chosen.
  const answer = async (method: string, input: unknown): Promise<unknown> => {
    if (!isMethodName(method)) return host.call(method, input);
    const send = checkSendCall(method, input, owner, sends);
    if (send) return send;
    if (isPickMethod(method))
      return answerPickCall(method, input, owner, picks, () => Promise.resolve(pickFiles.shift()));
    if (method === 'attachments:send-files')
      return sendPickedFiles(input, owner, picks, (context) => host.call(method, input, context));
    if (!isFileMethod(method)) return host.call(method, input);
    if (!methods[method].input.safeParse(input).success)
      return { ok: false, code: 'INVALID_INPUT' };
    const file = dialogFiles.shift();
    return file === undefined
      ? { ok: false, code: 'CANCELLED' }
      : host.call(method, input, { file });
  };
  await page.exposeBinding('__sottoInvoke', async (_source, method: string, wired: unknown) => {
    const output = toWire(await answer(method, fromWire(wired)));
    ipcLog.push({ method, input: wired, output });
    return output;
  });
  // Under tsx (the benchmarks), esbuild wraps named functions in __name(): the
  // functions this file hands to the page need that helper there too.
  await page.addInitScript({ content: 'globalThis.__name ??= (fn) => fn;' });
  await page.addInitScript(
    ({ methods, events }: { methods: string[]; events: string[] }) => {
      type Listener = (payload: unknown) => void;
      const listeners = new Map<string, Set<Listener>>();
      const invoke = (
        window as unknown as { __sottoInvoke: (m: string, i: unknown) => Promise<unknown> }
      ).__sottoInvoke;
      // Electron's IPC clones ArrayBuffers; a Playwright binding carries JSON, so bytes travel as base64.
      const toWire = (value: unknown): unknown => {
        if (value instanceof ArrayBuffer) {
          let binary = '';
          for (const byte of new Uint8Array(value)) binary += String.fromCharCode(byte);
          return { __bytes: btoa(binary) };
        }
        if (Array.isArray(value)) return value.map(toWire);
        if (value && typeof value === 'object')
          return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, toWire(v)]));
        return value;
      };
      const fromWire = (value: unknown): unknown => {
        const bytes = (value as { __bytes?: unknown } | null)?.__bytes;
        if (typeof bytes === 'string')
          return Uint8Array.from(atob(bytes), (c) => c.charCodeAt(0)).buffer;
        if (Array.isArray(value)) return value.map(fromWire);
        if (value && typeof value === 'object')
          return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, fromWire(v)]));
        return value;
      };
      const api: Record<string, unknown> = {};
      for (const method of methods)
        api[method] = async (input: unknown) => fromWire(await invoke(method, toWire(input ?? {})));
      api['on'] = (event: string, listener: Listener) => {
        if (!events.includes(event)) throw new Error('unknown event');
        const set = listeners.get(event) ?? new Set<Listener>();
        listeners.set(event, set);
        set.add(listener);
        return () => set.delete(listener);
      };
      Object.defineProperty(window, '__sottoEmit', {
        value: (event: string, payload: unknown) =>
          listeners.get(event)?.forEach((listener) => listener(payload)),
      });
      Object.defineProperty(window, 'sotto', { value: Object.freeze(api) });
    },
    { methods: METHOD_NAMES, events: EVENT_NAMES },
  );
  const unsubscribe = host.onEvent((event, payload) => {
    page
      .evaluate(
        ([e, p]) =>
          (window as unknown as { __sottoEmit: (e: unknown, p: unknown) => void }).__sottoEmit(
            e,
            p,
          ),
        [event, payload] as const,
      )
      .catch(() => undefined); // the page may be navigating or closed
  });
  await page.goto(rendererUrl);
  return {
    page,
    host,
    profileDir,
    problems,
    externalOpens,
    dialogFiles,
    mediaRequests,
    pickFiles,
    ipcLog,
    async close() {
      unsubscribe();
      picks.forget(owner);
      sends.forget(owner);
      await context.close();
      await host.close();
    },
  };
}

/** Saves a full-page screenshot as test-artifacts/<name>.png. */
export async function screenshot(page: Page, name: string): Promise<string> {
  mkdirSync(ARTIFACTS, { recursive: true });
  const path = resolve(ARTIFACTS, `${name}.png`);
  await page.screenshot({ path, fullPage: true });
  return path;
}
