import { z } from 'zod';
import { accountIdSchema } from '../protocol/account-id.ts';
import { id, inConversation, none } from './fields.ts';
import { MAX_SEND_INPUT_CHARS } from './messages.ts';
import { muteDurationSchema } from './mute.ts';

// The IPC methods and events of the conversation list and one conversation
// (docs/ipc.md), spread into the contract's tables: read state, mute, draft.

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

/** The conversation methods: the list, one opened, mark read, mute and unmute, the draft. */
export const conversationMethods = {
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
    input: z
      .object({ conversationId: id, draft: z.string().max(MAX_SEND_INPUT_CHARS).nullable() })
      .strict(),
    output: none,
  },
} as const;

/** The conversation events: the list changed. */
export const conversationEvents = {
  /** The conversation list changed (order, unread counts, identity flags). */
  'conversations:changed': none,
} as const;
