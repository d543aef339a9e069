// The IPC transport: one `ipcMain.handle` per contract method, each checking
// its sender before CoreHost validates the input (docs/ipc.md).
import type { BrowserWindow, IpcMain, IpcMainInvokeEvent, WebContents } from 'electron';
import { channelOf, type EventName, METHOD_NAMES, type MethodName, type Result } from '../../shared/ipc/contract.ts';
import { log } from '../core/log.ts';
import { originOf } from './csp.ts';

/** What the IPC layer forwards to (CoreHost in the app). */
export interface CallTarget {
  call(method: string, rawInput: unknown): Promise<Result<unknown>>;
}

/** Told about every completed call (main's own state: lock phase, settings, badge). */
export type CallObserver = (method: MethodName, result: Result<unknown>) => void;

export interface IpcOptions {
  readonly target: CallTarget;
  /** The window whose main frame may call; undefined while there is none. */
  readonly window: () => BrowserWindow | undefined;
  /** `scheme://host` the main frame must be showing (app://sotto; the dev server in development). */
  readonly origin: string;
  readonly observe?: CallObserver;
}

/** The answer to a sender that is not our window's main frame on our origin. */
export const REFUSED: Result<never> = { ok: false, code: 'INVALID_INPUT' };

/**
 * True if the call comes from the main frame (not a subframe) of our window's
 * web contents, currently showing a page of our origin.
 */
export function isTrustedSender(event: IpcMainInvokeEvent, window: BrowserWindow | undefined, origin: string): boolean {
  if (!window || window.isDestroyed()) return false;
  const contents: WebContents = window.webContents;
  if (event.sender !== contents) return false;
  const frame = event.senderFrame;
  if (!frame || frame !== contents.mainFrame || frame.parent !== null) return false;
  return originOf(frame.url) === origin;
}

/** Registers one handler per contract method; returns a function that removes them. */
export function registerIpc(ipc: IpcMain, options: IpcOptions): () => void {
  for (const method of METHOD_NAMES) {
    ipc.handle(channelOf(method), async (event, input: unknown) => {
      if (!isTrustedSender(event, options.window(), options.origin)) {
        log.warn('ipc.sender_refused');
        return REFUSED;
      }
      const result = await options.target.call(method, input);
      options.observe?.(method, result);
      return result;
    });
  }
  return () => {
    for (const method of METHOD_NAMES) ipc.removeHandler(channelOf(method));
  };
}

/** Sends a push event to the window's main frame (nothing if the window is gone). */
export function sendEvent(window: BrowserWindow | undefined, name: EventName, payload: unknown): void {
  if (!window || window.isDestroyed()) return;
  window.webContents.send(channelOf(name), payload);
}
