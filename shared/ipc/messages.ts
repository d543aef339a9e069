import { z } from 'zod';
import { accountIdSchema } from '../protocol/account-id.ts';
import { id } from './fields.ts';

// The IPC methods and events of 1:1 messages (docs/ipc.md), spread into the
// contract's tables: pages of history, sending, retry, search, and the pushes
// of a new message or a status change.

export const messageStatusSchema = z.enum(['queued', 'sent', 'delivered', 'failed', 'received']);

/** The fields a 1:1 and a group message share after their id, uuid and place (conversation or group). */
export const messageFields = {
  outgoing: z.boolean(),
  senderAccount: accountIdSchema,
  senderName: z.string().nullable(),
  sentAt: z.number(),
  receivedAt: z.number(),
  body: z.string(),
  status: messageStatusSchema,
};

export const messageSchema = z.object({
  id,
  uuid: z.string(),
  conversationId: id,
  ...messageFields,
});
export type Message = z.infer<typeof messageSchema>;

export const cursorSchema = z.object({ sentAt: z.number(), id });

/** Largest `messages:send` body the IPC layer passes on (UTF-16 units): 1 MiB, a sanity bound only. */
export const MAX_SEND_INPUT_CHARS = 1024 * 1024;

/** The message methods: history pages, a window around a search hit, send, retry, search. */
export const messageMethods = {
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
} as const;

/** The message events: one stored, one's status changed. */
export const messageEvents = {
  /** A message was stored (received, or sent from another window). */
  'message:new': messageSchema.extend({
    /** Its conversation was muted when it arrived: no notification. */
    muted: z.boolean().optional(),
  }),
  'message:status': z.object({ messageId: id, conversationId: id, status: messageStatusSchema }),
} as const;
