import type { z } from 'zod';
import { type ErrorCode, isErrorCode } from '../errors.ts';
import { accountEvents, accountMethods } from './account.ts';
import { attachmentEvents, attachmentMethods } from './attachments.ts';
import { backupEvents, backupMethods } from './backup.ts';
import { contactMethods } from './contacts.ts';
import { conversationEvents, conversationMethods } from './conversations.ts';
import { groupEvents, groupMethods } from './groups.ts';
import { messageDeleteEvents, messageDeleteMethods } from './message-delete.ts';
import { messageEvents, messageMethods } from './messages.ts';
import { settingsMethods } from './settings.ts';
import { syncEvents, syncMethods } from './sync.ts';

// The typed IPC contract between the renderer and the core (docs/ipc.md).
// Defined once: method names, input and output schemas, push events. Main
// validates every input with these schemas before the core sees it; the
// preload exposes one function per method; the Chromium test bridge uses the
// same table. Nothing here carries key material.
//
// Each domain's methods, events and record schemas live in a file of their
// own (account.ts, settings.ts, contacts.ts, conversations.ts, messages.ts,
// groups.ts, attachments.ts, message-delete.ts, sync.ts, backup.ts); this
// file gathers them into the tables and is the one import path of the contract.

export { type AppState, appStateSchema } from './account.ts';
export { type BackupSummary, backupSummarySchema } from './backup.ts';
export { type Contact, contactSchema } from './contacts.ts';
export {
  type Conversation,
  type ConversationDetail,
  conversationDetailSchema,
  conversationSchema,
} from './conversations.ts';
export {
  cursorSchema,
  MAX_SEND_INPUT_CHARS,
  type Message,
  messageSchema,
  messageStatusSchema,
} from './messages.ts';
export { type Settings, settingsSchema, themeSchema } from './settings.ts';
export {
  type ConnectionState,
  connectionStateSchema,
  type SyncStatus,
  syncStatusSchema,
} from './sync.ts';

/** Every method: its input and output schema. Method names are `area:verb`. */
export const methods = {
  ...accountMethods,
  ...groupMethods,
  ...attachmentMethods,
  ...messageDeleteMethods,
  ...settingsMethods,
  ...contactMethods,
  ...conversationMethods,
  ...messageMethods,
  ...syncMethods,
  ...backupMethods,
} as const;

/** How main asks for the file of a file method: a save or an open dialog, and a suggested name. */
export const FILE_METHODS = {
  'backup:export': { dialog: 'save', suggestedName: 'sotto-backup.age' },
  'backup:verify': { dialog: 'open', suggestedName: null },
  'backup:restore': { dialog: 'open', suggestedName: null },
  'export:conversation': { dialog: 'save', suggestedName: 'sotto-export' },
  'attachments:send': { dialog: 'open', suggestedName: null },
  'attachments:save': { dialog: 'save', suggestedName: null },
} as const satisfies Partial<
  Record<MethodName, { dialog: 'save' | 'open'; suggestedName: string | null }>
>;
export type FileMethodName = keyof typeof FILE_METHODS;

/** True if `method` needs a file chosen by the user. */
export function isFileMethod(method: MethodName): method is FileMethodName {
  return Object.hasOwn(FILE_METHODS, method);
}

export type Methods = typeof methods;
export type MethodName = keyof Methods;
export type MethodInput<M extends MethodName> = z.input<Methods[M]['input']>;
export type MethodOutput<M extends MethodName> = z.output<Methods[M]['output']>;

export const METHOD_NAMES = Object.keys(methods) as MethodName[];

/** True if `name` is a method of the contract. */
export function isMethodName(name: unknown): name is MethodName {
  return typeof name === 'string' && Object.hasOwn(methods, name);
}

/** Push events from the core to the renderer. */
export const events = {
  ...messageEvents,
  ...groupEvents,
  ...conversationEvents,
  ...syncEvents,
  ...accountEvents,
  ...backupEvents,
  ...attachmentEvents,
  ...messageDeleteEvents,
} as const;

export type Events = typeof events;
export type EventName = keyof Events;
export type EventPayload<E extends EventName> = z.output<Events[E]>;
export const EVENT_NAMES = Object.keys(events) as EventName[];

/** The IPC channel of a method or event (one namespace for the app). */
export const channelOf = (name: MethodName | EventName): string => `sotto:${name}`;

/**
 * What travels back over IPC: Electron flattens thrown errors to a message
 * string, so results are wrapped and errors carry only a closed code.
 */
export type Result<T> =
  { readonly ok: true; readonly value: T } | { readonly ok: false; readonly code: ErrorCode };

/** Unwraps a result, throwing a `BridgeError` with the code on failure. */
export function unwrap<T>(result: Result<T>): T {
  if (result.ok) return result.value;
  throw new BridgeError(isErrorCode(result.code) ? result.code : 'INTERNAL');
}

/** The error a renderer sees: only a stable code (text comes from the locale file). */
export class BridgeError extends Error {
  constructor(readonly code: ErrorCode) {
    super(code);
    this.name = 'BridgeError';
  }
}

/** What the preload exposes as `window.sotto`: one function per method, plus event subscription. */
export type SottoApi = {
  readonly [M in MethodName]: (input: MethodInput<M>) => Promise<Result<MethodOutput<M>>>;
} & {
  /** Subscribes to a push event; returns the unsubscribe function. */
  readonly on: <E extends EventName>(
    event: E,
    listener: (payload: EventPayload<E>) => void,
  ) => () => void;
};
