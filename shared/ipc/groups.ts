import { z } from 'zod';
import { accountIdSchema } from '../protocol/account-id.ts';
import { groupId, id } from './fields.ts';
import { messageFields } from './messages.ts';
import { muteDurationSchema } from './mute.ts';

// The IPC methods and event of group conversations (docs/ipc.md#groups),
// spread into the contract's tables. Groups are named by their base64 group id;
// contacts by their conversation id, as everywhere else in the contract.

const title = z.string().max(4096);
// Where a page starts (exclusive), as `messages:page`'s cursor (strict here: unknown keys refused).
const cursor = z.object({ sentAt: z.number(), id }).strict();

export const groupSummarySchema = z.object({
  groupId,
  title: z.string(),
  revision: z.number().int().nonnegative(),
  standing: z.enum(['member', 'left', 'removed']),
  members: z.array(
    z.object({
      accountId: accountIdSchema,
      name: z.string(),
      admin: z.boolean(),
      self: z.boolean(),
      /** The member's 1:1 conversation (its safety number screen), or null if they are not a contact with one. */
      conversationId: id.nullable(),
      /**
       * Their contact moved to a new identity (a changed safety number is always a move)
       * and the user has not decided yet: sending to the group waits.
       */
      identityChanged: z.boolean(),
    }),
  ),
  /** The last change to the group itself (created, a member added, renamed). */
  updatedAt: z.number(),
  lastMessageAt: z.number().nullable(),
  lastMessagePreview: z.string().nullable(),
  /** Incoming messages that arrived after the group was last read (the core keeps the marker). */
  unreadCount: z.number().int().nonnegative(),
  /** When the group's mute ends (MUTE_FOREVER: until unmuted), or null if it is not muted. */
  mutedUntil: z.number().int().positive().nullable(),
});
export type GroupSummary = z.infer<typeof groupSummarySchema>;

export const groupMessageSchema = z.object({
  id,
  uuid: z.string(),
  groupId,
  ...messageFields,
  /** Outgoing only: members who confirmed delivery, of how many. */
  delivered: z.object({ count: z.number().int(), of: z.number().int() }).optional(),
});
export type GroupMessage = z.infer<typeof groupMessageSchema>;

const inGroup = z.object({ groupId }).strict();

/** Group methods: input and output schemas. */
export const groupMethods = {
  'groups:list': { input: z.object({}).strict(), output: z.array(groupSummarySchema) },
  'groups:get': { input: inGroup, output: groupSummarySchema },
  /** Members are contacts, named by their conversations. */
  'groups:create': {
    input: z.object({ title, members: z.array(id).max(999) }).strict(),
    output: groupSummarySchema,
  },
  'groups:add': {
    input: z.object({ groupId, conversationId: id }).strict(),
    output: groupSummarySchema,
  },
  'groups:remove': {
    input: z.object({ groupId, accountId: z.string().max(64) }).strict(),
    output: groupSummarySchema,
  },
  'groups:make-admin': {
    input: z.object({ groupId, accountId: z.string().max(64) }).strict(),
    output: groupSummarySchema,
  },
  'groups:leave': { input: inGroup, output: groupSummarySchema },
  'groups:rename': { input: z.object({ groupId, title }).strict(), output: groupSummarySchema },
  /**
   * Newest first; `before` pages back in time (keyset, as `messages:page`).
   * With `after`: the messages newer than it, oldest first (paging forward in a capped window).
   */
  'groups:messages': {
    input: z
      .object({
        groupId,
        limit: z.number().int().min(1).max(500),
        before: cursor.optional(),
        after: cursor.optional(),
      })
      .strict()
      .refine((input) => !(input.before && input.after), 'before or after, not both'),
    output: z.array(groupMessageSchema),
  },
  /** Mutes the group for `durationMs` (null: until unmuted): no notifications, not in the badge. */
  'groups:mute': {
    input: z.object({ groupId, durationMs: muteDurationSchema }).strict(),
    output: groupSummarySchema,
  },
  'groups:unmute': { input: inGroup, output: groupSummarySchema },
  /** Queues a failed outgoing group message again (same id); it shows as queued. */
  'groups:retry': { input: z.object({ messageId: id }).strict(), output: groupMessageSchema },
  /** The group is open and visible: everything stored in it so far is read. */
  'groups:mark-read': { input: inGroup, output: z.object({}).strict() },
  'groups:send': {
    input: z
      .object({
        groupId,
        body: z
          .string()
          .min(1)
          .max(1024 * 1024),
      })
      .strict(),
    output: groupMessageSchema,
  },
  /** The user accepts a member flagged `identityChanged` as they are: sending to the group resumes. */
  'groups:accept-member': {
    input: z.object({ groupId, accountId: z.string().max(64) }).strict(),
    output: groupSummarySchema,
  },
  /**
   * A member's safety number, from the identity key the group carries (members
   * who are not contacts too), and whether that key is verified.
   */
  'groups:member-safety-number': {
    input: z.object({ groupId, accountId: z.string().max(64) }).strict(),
    output: z.object({
      digits: z.string().regex(/^\d{60}$/),
      scannable: z.string(),
      verified: z.boolean(),
    }),
  },
  /** The user compared a member's safety number: that key is verified (for a later 1:1 contact too). */
  'groups:verify-member': {
    input: z.object({ groupId, accountId: z.string().max(64) }).strict(),
    output: z.object({}).strict(),
  },
  /** Full-text search over group messages (the rules of `messages:search`), newest first. */
  'groups:search': {
    input: z
      .object({ query: z.string().max(512), limit: z.number().int().min(1).max(200) })
      .strict(),
    output: z.array(groupMessageSchema.extend({ groupTitle: z.string() })),
  },
  /** Per-member delivery of one outgoing group message. */
  'groups:deliveries': {
    input: z.object({ messageId: id }).strict(),
    output: z.array(
      z.object({
        accountId: accountIdSchema,
        name: z.string().nullable(),
        deliveredAt: z.number().nullable(),
      }),
    ),
  },
} as const;

/** The group event: a group message was received (with its group's title, for a notification). */
export const groupEvents = {
  'group:message': groupMessageSchema.extend({
    groupTitle: z.string(),
    /** The group was muted when it arrived: no notification. */
    muted: z.boolean().optional(),
  }),
} as const;
