// The IPC transport: one `ipcMain.handle` per contract method, each checking
// its sender before CoreHost validates the input (docs/ipc.md).
import type { BrowserWindow, IpcMain, IpcMainInvokeEvent, WebContents } from 'electron';
import {
  channelOf,
  type EventName,
  type FileMethodName,
  isFileMethod,
  METHOD_NAMES,
  type MethodName,
  methods,
  type Result,
} from '../../shared/ipc/contract.ts';
import { log } from '../core/log.ts';
import type { CallContext } from '../core/service/types.ts';
import type { PickRegistry } from './attachment-picks.ts';
import { originOf } from './csp.ts';
import { answerPickCall, isPickMethod, sendPickedFiles } from './pick-calls.ts';
import { checkSendCall, type SendOwners } from './send-owners.ts';

/** What the IPC layer forwards to (CoreHost in the app). */
export interface CallTarget {
  call(method: string, rawInput: unknown, context?: CallContext): Promise<Result<unknown>>;
}

/**
 * Asks the user for the file of a file method (a native save or open dialog);
 * undefined if they closed it. The renderer never names a path.
 */
export type FileChooser = (
  method: FileMethodName,
  input: unknown,
  window: BrowserWindow,
) => Promise<string | undefined>;

/** Told about every completed call (main's own state: lock phase, settings, badge). */
export type CallObserver = (method: MethodName, result: Result<unknown>) => void;

export interface IpcOptions {
  readonly target: CallTarget;
  /** The window whose main frame may call; undefined while there is none. */
  readonly window: () => BrowserWindow | undefined;
  /** `scheme://host` the main frame must be showing (app://sotto; the dev server in development). */
  readonly origin: string;
  readonly observe?: CallObserver;
  /** Shows the dialog for file methods; without one, file methods are CANCELLED. */
  readonly chooseFile?: FileChooser;
  /** The Attach button's picks (main's multi-file open dialog); without them, picks are CANCELLED. */
  readonly picks?: {
    readonly registry: PickRegistry;
    readonly choose: (window: BrowserWindow) => Promise<readonly string[] | undefined>;
  };
  /** Which window started which send with files; without it, every cancel-send is UNKNOWN_SEND. */
  readonly sends?: SendOwners;
}

/** The answer to a sender that is not our window's main frame on our origin. */
export const REFUSED: Result<never> = { ok: false, code: 'INVALID_INPUT' };

/**
 * True if the call comes from the main frame (not a subframe) of our window's
 * web contents, currently showing a page of our origin.
 */
export function isTrustedSender(
  event: IpcMainInvokeEvent,
  window: BrowserWindow | undefined,
  origin: string,
): boolean {
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
      const window = options.window();
      if (!window || !isTrustedSender(event, window, options.origin)) {
        log.warn('ipc.sender_refused');
        return REFUSED;
      }
      let context: CallContext = {};
      // Picks and sends are bound to the window's web contents: another window's are unknown here.
      const owner = window.webContents.id;
      const picks = options.picks;
      const send = options.sends
        ? checkSendCall(method, input, owner, options.sends)
        : method === 'attachments:cancel-send'
          ? ({ ok: false, code: 'UNKNOWN_SEND' } satisfies Result<never>)
          : undefined;
      if (send) return send;
      if (isPickMethod(method)) {
        if (!picks) return { ok: false, code: 'CANCELLED' } satisfies Result<never>;
        return answerPickCall(method, input, owner, picks.registry, () => picks.choose(window));
      }
      if (method === 'attachments:send-files' && picks) {
        const result = await sendPickedFiles(input, owner, picks.registry, (picked) =>
          options.target.call(method, input, picked),
        );
        options.observe?.(method, result);
        return result;
      }
      if (isFileMethod(method)) {
        // Validate before asking: malformed input never opens a dialog.
        if (!methods[method].input.safeParse(input).success)
          return { ok: false, code: 'INVALID_INPUT' } satisfies Result<never>;
        const file = await options.chooseFile?.(method, input, window);
        if (file === undefined) return { ok: false, code: 'CANCELLED' } satisfies Result<never>;
        context = { file };
      }
      const result = await options.target.call(method, input, context);
      options.observe?.(method, result);
      return result;
    });
  }
  return () => {
    for (const method of METHOD_NAMES) ipc.removeHandler(channelOf(method));
  };
}

/** Sends a push event to the window's main frame (nothing if the window is gone). */
export function sendEvent(
  window: BrowserWindow | undefined,
  name: EventName,
  payload: unknown,
): void {
  if (!window || window.isDestroyed()) return;
  window.webContents.send(channelOf(name), payload);
}
