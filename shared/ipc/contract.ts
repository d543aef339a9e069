import { z } from 'zod';
import { type ErrorCode, isErrorCode } from '../errors.ts';
import { accountIdSchema } from '../protocol/account-id.ts';
import { muteDurationSchema } from './mute.ts';
import { attachmentEvents, attachmentMethods, autoDownloadMbSchema } from './attachments.ts';
import { groupMessageSchema, groupMethods } from './groups.ts';
import { messageDeleteEvents, messageDeleteMethods } from './message-delete.ts';

// The typed IPC contract between the renderer and the core (docs/ipc.md).
// Defined once: method names, input and output schemas, push events. Main
// validates every input with these schemas before the core sees it; the
// preload exposes one function per method; the Chromium test bridge uses the
// same table. Nothing here carries key material.

const id = z.number().int().positive();
const text = (max: number) => z.string().max(max);

export const messageStatusSchema = z.enum(['queued', 'sent', 'delivered', 'failed', 'received']);

export const messageSchema = z.object({
  id,
  uuid: z.string(),
  conversationId: id,
  outgoing: z.boolean(),
  senderAccount: accountIdSchema,
  senderName: z.string().nullable(),
  sentAt: z.number(),
  receivedAt: z.number(),
  body: z.string(),
  status: messageStatusSchema,
});
export type Message = z.infer<typeof messageSchema>;

export const conversationSchema = z.object({
  id,
  accountId: accountIdSchema,
  displayName: z.string().nullable(),
  lastMessageAt: z.number().nullable(),
  lastMessagePreview: z.string().nullable(),
  unreadCount: z.number().int().nonnegative(),
  identityChanged: z.boolean(),
  hasDraft: z.boolean(),
  failedCount: z.number().int().nonnegative(),
  /** When the conversation's mute ends (MUTE_FOREVER: until unmuted), or null if it is not muted. */
  mutedUntil: z.number().int().positive().nullable(),
});
export type Conversation = z.infer<typeof conversationSchema>;

/** One conversation opened in the chat view. */
export const conversationDetailSchema = conversationSchema.extend({
  draft: z.string().nullable(),
  verified: z.boolean(),
  messageCount: z.number().int().nonnegative(),
});
export type ConversationDetail = z.infer<typeof conversationDetailSchema>;

export const contactSchema = z.object({
  accountId: accountIdSchema,
  displayName: z.string().nullable(),
  conversationId: id,
  trust: z.enum(['trusted', 'changed', 'unknown']),
  verified: z.boolean(),
  /** Blocked: their delivery token was rotated away and nothing is sent to them. */
  blocked: z.boolean(),
});
export type Contact = z.infer<typeof contactSchema>;

export const cursorSchema = z.object({ sentAt: z.number(), id });

export const themeSchema = z.enum(['system', 'light', 'dark']);
export const settingsSchema = z.object({
  relay: z.string().nullable(),
  /** Minutes of inactivity before the app locks; 0 = never. */
  autoLockMinutes: z
    .number()
    .int()
    .min(0)
    .max(24 * 60),
  theme: themeSchema,
  language: z.string().min(2).max(16),
  notifications: z.boolean(),
  /** What an OS notification shows (docs/threat-model.md#notifications); default 'name'. */
  notificationContent: z.enum(['name-and-text', 'name', 'nothing']),
  /** The user confirmed an unencrypted ws:// relay on another host (docs/relay-protocol.md#relay-addresses). */
  allowInsecureRelay: z.boolean(),
  /** Received images up to this many MB download by themselves (0 = never; other files always wait for a click). */
  autoDownloadImagesMb: autoDownloadMbSchema,
  /** Auto-download on a metered connection too (default off). */
  autoDownloadOnMetered: z.boolean(),
});
export type Settings = z.infer<typeof settingsSchema>;

export const connectionStateSchema = z.enum(['online', 'offline', 'connecting', 'not-configured']);
export type ConnectionState = z.infer<typeof connectionStateSchema>;

export const syncStatusSchema = z.object({
  connection: connectionStateSchema,
  /** Messages waiting to go out. */
  outbox: z.number().int().nonnegative(),
  /** Set while a backlog is being received. */
  backlog: z.object({ received: z.number().int().nonnegative() }).nullable(),
  /** Unread messages across conversations: the dock/tray badge (content-free, sent while locked too). */
  unread: z.number().int().nonnegative(),
});
export type SyncStatus = z.infer<typeof syncStatusSchema>;

export const appStateSchema = z.object({
  /** no-profile: first run; locked: a profile exists and needs unlocking; unlocked: ready. */
  phase: z.enum(['no-profile', 'locked', 'unlocked']),
  accountId: accountIdSchema.nullable(),
  displayName: z.string().nullable(),
  /** True if the OS keychain gives real protection on this machine. */
  keychainSecure: z.boolean(),
  /** How this profile unlocks (null before a profile exists). */
  unlockWith: z.enum(['passphrase', 'keychain']).nullable(),
});
export type AppState = z.infer<typeof appStateSchema>;

/** What a verified backup holds (from its manifest). */
export const backupSummarySchema = z.object({
  accountId: accountIdSchema,
  createdAt: z.number(),
  appVersion: z.string(),
  messages: z.number().int().nonnegative(),
  contacts: z.number().int().nonnegative(),
  conversations: z.number().int().nonnegative(),
});
export type BackupSummary = z.infer<typeof backupSummarySchema>;

const none = z.object({}).strict();
const passphrase = z.string().min(1).max(1024);
const relayAddress = z.string().trim().min(1).max(1024);
const inConversation = z.object({ conversationId: id }).strict();
/** Largest `messages:send` body the IPC layer passes on (UTF-16 units): 1 MiB, a sanity bound only. */
export const MAX_SEND_INPUT_CHARS = 1024 * 1024;

/** Every method: its input and output schema. Method names are `area:verb`. */
export const methods = {
  'app:state': { input: none, output: appStateSchema },
  ...groupMethods,
  ...attachmentMethods,
  ...messageDeleteMethods,
  'profile:create': {
    input: z
      .object({
        /** Checked by the core (INVALID_NAME: 1 to MAX_NAME_CHARS after trimming); bounded here only against abuse. */
        displayName: z.string().max(4096),
        /** Required unless `useKeychain` and the keychain is secure. */
        passphrase: passphrase.optional(),
        useKeychain: z.boolean(),
        relay: relayAddress,
        /** The user confirmed an unencrypted ws:// relay on another host. */
        allowInsecureRelay: z.boolean().optional(),
      })
      .strict(),
    output: appStateSchema,
  },
  'profile:unlock': {
    input: z.object({ passphrase: passphrase.optional() }).strict(),
    output: appStateSchema,
  },
  /** Locks the UI (the core keeps syncing); `reason` is 'idle' when main's idle timer fired. */
  'profile:lock': {
    input: z.object({ reason: z.enum(['user', 'idle']).optional() }).strict(),
    output: appStateSchema,
  },
  'profile:invite': { input: none, output: z.object({ link: z.string() }) },
  'profile:change-passphrase': {
    input: z.object({ current: passphrase, next: passphrase }).strict(),
    output: none,
  },
  'settings:get': { input: none, output: settingsSchema },
  'settings:set': { input: settingsSchema.partial().strict(), output: settingsSchema },
  'contacts:add': {
    input: z.object({ invite: z.string().trim().min(1).max(4096) }).strict(),
    output: contactSchema,
  },
  'contacts:list': { input: none, output: z.array(contactSchema) },
  'contacts:safety-number': {
    input: inConversation,
    output: z.object({ digits: z.string().regex(/^\d{60}$/), scannable: z.string() }),
  },
  'contacts:verify': { input: inConversation, output: contactSchema },
  'contacts:accept-identity': { input: inConversation, output: contactSchema },
  /** Rotates this account's delivery token and re-shares it with every other contact: the blocked one can no longer write. */
  'contacts:block': { input: inConversation, output: contactSchema },
  'contacts:unblock': { input: inConversation, output: contactSchema },
  /**
   * Identity reset: a new identity key and so a new account id; the old key
   * signs a move notice sent to every contact (docs/message-format.md#identity-reset).
   */
  'profile:reset-identity': {
    input: z.object({ passphrase: passphrase.optional() }).strict(),
    output: appStateSchema,
  },
  'conversations:list': { input: none, output: z.array(conversationSchema) },
  'conversations:get': { input: inConversation, output: conversationDetailSchema },
  'conversations:mark-read': { input: inConversation, output: none },
  /** Mutes for `durationMs` (null: until unmuted): no notifications, not in the badge. */
  'conversations:mute': {
    input: z.object({ conversationId: id, durationMs: muteDurationSchema }).strict(),
    output: conversationSchema,
  },
  'conversations:unmute': { input: inConversation, output: conversationSchema },
  'conversations:set-draft': {
    input: z.object({ conversationId: id, draft: text(MAX_SEND_INPUT_CHARS).nullable() }).strict(),
    output: none,
  },
  /** Newest first: `before` pages back in time, `after` pages forward (then oldest first). */
  'messages:page': {
    input: z
      .object({
        conversationId: id,
        limit: z.number().int().min(1).max(500),
        before: cursorSchema.optional(),
        after: cursorSchema.optional(),
      })
      .strict(),
    output: z.array(messageSchema),
  },
  /** A window of messages around one message (to jump to a search hit), oldest first. */
  'messages:around': {
    input: z.object({ messageId: id, limit: z.number().int().min(1).max(500) }).strict(),
    output: z.object({ conversationId: id, messages: z.array(messageSchema) }),
  },
  'messages:send': {
    // Only a transport bound, far above the core's size rule (encoded content
    // ≤ MAX_CONTENT_BYTES bytes, refused as MESSAGE_TOO_LONG at compose time):
    // the core's rule is the one a person meets, with its own sentence.
    input: z
      .object({ conversationId: id, body: z.string().min(1).max(MAX_SEND_INPUT_CHARS) })
      .strict(),
    output: messageSchema,
  },
  'messages:retry': { input: z.object({ messageId: id }).strict(), output: messageSchema },
  'messages:search': {
    input: z
      .object({ query: z.string().max(512), limit: z.number().int().min(1).max(200) })
      .strict(),
    output: z.array(messageSchema),
  },
  'sync:status': { input: none, output: syncStatusSchema },

  // Backups and exports (docs/backup-format.md). Each works on a file the user
  // picks in a native dialog that main shows (FILE_METHODS): the renderer never
  // names a path. A closed dialog is CANCELLED, as is `backup:cancel`.
  /** Exactly one of `passphrase` (checked for strength) and `recoveryKey` (generated, returned once). */
  'backup:export': {
    input: z
      .object({ passphrase: passphrase.optional(), recoveryKey: z.literal(true).optional() })
      .strict()
      .refine(
        (i) => (i.passphrase === undefined) !== (i.recoveryKey === undefined),
        'passphrase or recoveryKey',
      ),
    output: z.object({
      recoveryKey: z.string().nullable(),
      messages: z.number().int().nonnegative(),
      bytes: z.number(),
    }),
  },
  'backup:verify': { input: z.object({ passphrase }).strict(), output: backupSummarySchema },
  /**
   * Restores a backup. With no profile (first run): a new profile protected by
   * `protect`. With an unlocked profile: merged into it (same account only),
   * after `profilePassphrase` confirms it is the user.
   */
  'backup:restore': {
    input: z
      .object({
        passphrase,
        profilePassphrase: passphrase.optional(),
        protect: z
          .object({ passphrase: passphrase.optional(), useKeychain: z.boolean() })
          .strict()
          .optional(),
      })
      .strict(),
    output: z.object({
      state: appStateSchema,
      added: z.number().int().nonnegative(),
      summary: backupSummarySchema,
    }),
  },
  'backup:cancel': { input: none, output: none },
  /** A readable export of one conversation (or all, with `conversationId` null), optionally age-encrypted. */
  'export:conversation': {
    input: z
      .object({
        conversationId: id.nullable(),
        format: z.enum(['html', 'json', 'md']),
        from: z.number().int().nonnegative().optional(),
        to: z.number().int().nonnegative().optional(),
        passphrase: passphrase.optional(),
      })
      .strict(),
    output: z.object({ messages: z.number().int().nonnegative() }),
  },
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
  /** A message was stored (received, or sent from another window). */
  'message:new': messageSchema.extend({
    /** Its conversation was muted when it arrived: no notification. */
    muted: z.boolean().optional(),
  }),
  'message:status': z.object({ messageId: id, conversationId: id, status: messageStatusSchema }),
  /** A group message was received (with its group's title, for a notification). */
  'group:message': groupMessageSchema.extend({
    groupTitle: z.string(),
    /** The group was muted when it arrived: no notification. */
    muted: z.boolean().optional(),
  }),
  /** The conversation list changed (order, unread counts, identity flags). */
  'conversations:changed': none,
  'sync:status': syncStatusSchema,
  /**
   * The app locked: by the user, after the idle timeout, or because the core
   * restarted after a crash ('restart': the profile must be unlocked again).
   */
  'app:locked': z.object({ reason: z.enum(['user', 'idle', 'restart']) }),
  /** Progress of the running backup, restore or export. */
  'backup:progress': z.object({
    operation: z.enum(['export', 'verify', 'restore', 'export-conversation']),
    phase: z.enum(['export', 'verify', 'import', 'swap']),
    done: z.number().nonnegative(),
    total: z.number().nonnegative(),
  }),
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
