import { z } from 'zod';

// The IPC methods of attachments (docs/ipc.md#attachments), spread into the
// contract's method table. The renderer never gets a key or a path: files are
// named by attachment id, and the files to send or save are the ones the user
// picks in main's dialogs (the contract's FILE_METHODS).

const id = z.number().int().positive();
const groupId = z.string().regex(/^[A-Za-z0-9+/]{43}=$/, 'a group id is 32 bytes of base64');

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
  /** outgoing: uploading → uploaded; incoming: pending → done; either may end failed (with `error`). */
  state: z.enum(['uploading', 'uploaded', 'pending', 'done', 'failed']),
  error: z.string().nullable(),
});
export type AttachmentSummaryView = z.infer<typeof attachmentSummarySchema>;

const caption = z.string().max(65_536);

/** Attachment methods: input and output schemas. */
export const attachmentMethods = {
  /** The files of a conversation (1:1 by conversation id, or a group), oldest first. */
  'attachments:list': {
    input: z.union([z.object({ conversationId: id }).strict(), z.object({ groupId }).strict()]),
    output: z.array(attachmentSummarySchema),
  },
  /** Sends the file the user picked (a FILE_METHOD: open dialog) with a caption, to a contact or a group. */
  'attachments:send': {
    input: z.union([
      z.object({ conversationId: id, caption }).strict(),
      z.object({ groupId, caption }).strict(),
    ]),
    output: z.object({ messageId: id, attachments: z.array(attachmentSummarySchema) }),
  },
  /** Decrypts a stored attachment to the file the user picked (a FILE_METHOD: save dialog). */
  'attachments:save': {
    input: z.object({ attachmentId: id }).strict(),
    output: z.object({ size: z.number().int().nonnegative() }),
  },
} as const;
