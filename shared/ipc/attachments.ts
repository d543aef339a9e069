import { z } from 'zod';
import { MAX_ATTACHMENTS_PER_MESSAGE } from '../protocol/attachment.ts';
import {
  pickedFileSchema,
  pickedSendSchema,
  pickTokenSchema,
  sentVisualSchema,
} from './attachment-picks.ts';
import { groupId, id } from './fields.ts';

// The IPC methods of attachments (docs/ipc.md#attachments), spread into the
// contract's method table. The renderer never gets a key or a path: files are
// named by attachment id, and the files to send or save are the ones the user
// picks in main's dialogs (the contract's FILE_METHODS).

export const attachmentSummarySchema = z.object({
  id,
  /** The 1:1 message or group message it belongs to (exactly one is set). */
  messageId: id.nullable(),
  groupMessageId: id.nullable(),
  outgoing: z.boolean(),
  contentType: z.string(),
  fileName: z.string().nullable(),
  size: z.number().int().nonnegative(),
  width: z.number().int().nullable(),
  height: z.number().int().nullable(),
  /** The sender's tiny blurred JPEG (base64), shown until the file itself is loaded. */
  preview: z.string().nullable(),
  /** A video's or audio file's playing time (ms) as the sender's pointer stated it; null if it did not. */
  durationMs: z.number().int().positive().nullable(),
  /** outgoing: uploading → uploaded; incoming: pending → done; either may end failed (with `error`). */
  state: z.enum(['uploading', 'uploaded', 'pending', 'done', 'failed']),
  error: z.string().nullable(),
  /** Incoming and pending, held back by the auto-download policy or a cancel: it downloads when the user asks (`attachments:download`). */
  waiting: z.boolean(),
});
export type AttachmentSummaryView = z.infer<typeof attachmentSummarySchema>;

const caption = z.string().max(65_536);

/** What the renderer knows of the connection (navigator.connection.saveData); the core treats 'unknown' as not metered. */
export const networkSchema = z.enum(['metered', 'unmetered', 'unknown']);

/** Largest auto-download limit (decimal MB) a user can set; 0 = never. */
export const MAX_AUTO_DOWNLOAD_MB = 1000;

/** The Settings value "download images automatically up to N MB". */
export const autoDownloadMbSchema = z.number().int().min(0).max(MAX_AUTO_DOWNLOAD_MB);

/** One attachment of the conversation the window shows (an id of another conversation is UNKNOWN_ATTACHMENT). */
const attachmentInConversation = z.union([
  z.object({ attachmentId: id, conversationId: id }).strict(),
  z.object({ attachmentId: id, groupId }).strict(),
]);

/**
 * A send with files, named by the renderer (a random UUID v4) when it starts
 * one: `attachments:sealing` reports its seal and `attachments:cancel-send`
 * stops it. Main binds it to the window that sent it (send-owners.ts).
 */
export const sendIdSchema = z
  .string()
  .regex(/^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/, 'a UUID v4');

/** Transfer events: ids and byte counts only (never a key, path, blob id or name). */
export const attachmentEvents = {
  /** Progress of one upload or download, at most 4 a second per transfer. */
  'attachments:progress': z
    .object({
      attachmentId: id,
      direction: z.enum(['upload', 'download']),
      done: z.number().int().nonnegative(),
      total: z.number().int().nonnegative(),
    })
    .strict(),
  /** A transfer ended (stored, failed or cancelled): the window re-reads the attachment. */
  'attachments:changed': z.object({ attachmentId: id }).strict(),
  /** A send's files being sealed (plaintext bytes read of all its files), at most 4 a second. */
  'attachments:sealing': z
    .object({
      sendId: sendIdSchema,
      done: z.number().int().nonnegative(),
      total: z.number().int().nonnegative(),
    })
    .strict(),
} as const;

/** Largest file the app passes over IPC as bytes (drag and drop, paste); bigger files go through the Attach button's dialog. */
export const MAX_DROPPED_FILE_BYTES = 25 * 1024 * 1024;

/** Bytes over IPC: an ArrayBuffer (or a typed view of one, as structured clone may deliver it), capped. */
const droppedBytes = z
  .union([z.instanceof(ArrayBuffer), z.instanceof(Uint8Array)])
  .refine((b) => b.byteLength <= MAX_DROPPED_FILE_BYTES, 'ATTACHMENT_TOO_LARGE');

/**
 * A dropped or pasted file. Width, height and the blurred preview are what the
 * sandboxed renderer measured of the user's own image (createImageBitmap,
 * canvas); only their shape is checked here, as for any sender.
 */
export const droppedFileSchema = z
  .object({
    name: z
      .string()
      .min(1)
      .max(255)
      // eslint-disable-next-line no-control-regex
      .regex(/^[^/\\\u0000-\u001f\u007f]+$/),
    bytes: droppedBytes,
    visual: sentVisualSchema.optional(),
  })
  .strict();

const files = z.array(droppedFileSchema).min(1).max(MAX_ATTACHMENTS_PER_MESSAGE);
/** The tray's files: dropped or pasted ones by bytes, picked ones by token. */
const trayFiles = z
  .array(z.union([droppedFileSchema, pickedSendSchema]))
  .min(1)
  .max(MAX_ATTACHMENTS_PER_MESSAGE);

/** A send's optional id: without one the send cannot be cancelled while sealed. */
const sendId = sendIdSchema.optional();

/** Attachment methods: input and output schemas. */
export const attachmentMethods = {
  /** The files of a conversation (1:1 by conversation id, or a group), oldest first. */
  'attachments:list': {
    input: z.union([z.object({ conversationId: id }).strict(), z.object({ groupId }).strict()]),
    output: z.array(attachmentSummarySchema),
  },
  /**
   * Sends the file the user picked (a FILE_METHOD: open dialog) with a caption, to a contact or a group;
   * with a `sendId`, Cancel stops it while sealed, as for the other sends.
   */
  'attachments:send': {
    input: z.union([
      z.object({ conversationId: id, caption, sendId }).strict(),
      z.object({ groupId, caption, sendId }).strict(),
    ]),
    output: z.object({ messageId: id, attachments: z.array(attachmentSummarySchema) }),
  },
  /** Sends files the renderer holds (dropped or pasted), with a caption, to a contact or a group. */
  'attachments:send-bytes': {
    input: z.union([
      z.object({ conversationId: id, caption, files, sendId }).strict(),
      z.object({ groupId, caption, files, sendId }).strict(),
    ]),
    output: z.object({ messageId: id, attachments: z.array(attachmentSummarySchema) }),
  },
  /**
   * Main's open dialog (several files): one token per picked file, never a
   * path. Handled in main, not the core. CANCELLED if the dialog is closed,
   * INVALID_INPUT for more than MAX_ATTACHMENTS_PER_MESSAGE files.
   */
  'attachments:pick': {
    input: z.object({}).strict(),
    output: z.array(pickedFileSchema).max(MAX_ATTACHMENTS_PER_MESSAGE),
  },
  /** The bytes of a picked image the renderer measures (handled in main; the token stays usable). */
  'attachments:picked-bytes': {
    input: z.object({ token: pickTokenSchema }).strict(),
    output: z.instanceof(ArrayBuffer),
  },
  /** Sends the tray (dropped bytes and picked tokens, used up if it succeeds) with a caption. */
  'attachments:send-files': {
    input: z.union([
      z.object({ conversationId: id, caption, files: trayFiles, sendId }).strict(),
      z.object({ groupId, caption, files: trayFiles, sendId }).strict(),
    ]),
    output: z.object({ messageId: id, attachments: z.array(attachmentSummarySchema) }),
  },
  /** Decrypts a stored attachment to the file the user picked (a FILE_METHOD: save dialog). */
  'attachments:save': {
    input: z.object({ attachmentId: id }).strict(),
    output: z.object({ size: z.number().int().nonnegative() }),
  },
  /** Downloads an incoming attachment the policy held back (a second click while it runs starts nothing new). */
  'attachments:download': { input: attachmentInConversation, output: attachmentSummarySchema },
  /** Cancels an upload (the message fails as CANCELLED) or a download (back to waiting); false if none ran. */
  'attachments:cancel': {
    input: attachmentInConversation,
    output: z.object({ cancelled: z.boolean() }),
  },
  /**
   * Cancels a send with files the window started (its `sendId`): while sealed,
   * nothing is stored and the send answers CANCELLED; once stored, its uploads
   * are cancelled as by `attachments:cancel`. UNKNOWN_SEND for an id this
   * window did not send (or main no longer remembers); false if nothing ran.
   */
  'attachments:cancel-send': {
    input: z.object({ sendId: sendIdSchema }).strict(),
    output: z.object({ cancelled: z.boolean() }).strict(),
  },
  /** The renderer tells the core whether the connection is metered (it applies to auto-downloads only). */
  'attachments:network': {
    input: z.object({ network: networkSchema }).strict(),
    output: z.object({}).strict(),
  },
} as const;
