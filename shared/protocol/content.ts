import { z } from 'zod';
import { PADDED_BASE64 } from './encoding.ts';
import { deliveryTokenSchema, moveNoticeSchema, relayIdSchema } from '../relay/protocol.ts';
import {
  groupIdSchema,
  groupSnapshotPartSchema,
  groupSnapshotSchema,
  signedGroupUpdateSchema,
} from './group.ts';
import { attachmentPointerSchema, MAX_ATTACHMENTS_PER_MESSAGE } from './attachment.ts';

// What travels inside a libsignal ciphertext: a versioned JSON object, padded
// so ciphertext length reveals only a 160-byte bucket (docs/message-format.md).

const PAD_BLOCK = 160;
export const MAX_BODY_CHARS = 64 * 1024;
/**
 * Largest encoded content (JSON + padding) a sender may produce: it must fit
 * in one sealed envelope (RELAY_LIMITS.maxEnvelopeBytes) with the sealed-sender
 * and Signal-message overhead. The core checks it at compose time (MESSAGE_TOO_LONG).
 */
export const MAX_CONTENT_BYTES = 88 * 1024;
/** Longest display name, in characters (the core refuses longer ones: INVALID_NAME). */
export const MAX_NAME_CHARS = 128;

const attachmentsField = z
  .array(attachmentPointerSchema)
  .min(1)
  .max(MAX_ATTACHMENTS_PER_MESSAGE)
  .optional();

export const contentSchema = z.discriminatedUnion('type', [
  z.object({
    v: z.literal(1),
    type: z.literal('text'),
    id: z.uuid(),
    sentAt: z.number().int().nonnegative(),
    body: z.string().max(MAX_BODY_CHARS),
    /** Files sent with this message (docs/message-format.md#attachments); `body` is then their caption, possibly empty. */
    attachments: attachmentsField,
    /** The sender's display name: names a contact who wrote first (never overrides a name the user has). */
    name: z.string().min(1).max(MAX_NAME_CHARS).optional(),
    /**
     * The sender's current delivery token, so that someone who was written to
     * first (and never saw the sender's invite) can answer; applied like a
     * `token` content of the same `sentAt` (docs/message-format.md#delivery-tokens).
     */
    token: deliveryTokenSchema.optional(),
  }),
  z.object({
    v: z.literal(1),
    type: z.literal('receipt'),
    kind: z.literal('delivered'),
    ids: z.array(z.uuid()).min(1).max(500),
    sentAt: z.number().int().nonnegative(),
  }),
  /** The sender rotated its delivery token: use this one from now on (docs/message-format.md#delivery-tokens). */
  z.object({
    v: z.literal(1),
    type: z.literal('token'),
    token: deliveryTokenSchema,
    sentAt: z.number().int().nonnegative(),
  }),
  /**
   * Sent by a new account to the contacts of the account it replaces: the old
   * key's signed notice, and how to reach the new account
   * (docs/message-format.md#identity-reset).
   */
  z.object({
    v: z.literal(1),
    type: z.literal('moved'),
    notice: moveNoticeSchema,
    relay: z.string().min(1).max(1024),
    relayId: relayIdSchema,
    token: deliveryTokenSchema,
    sentAt: z.number().int().nonnegative(),
  }),
  /**
   * A signed group update, sent pairwise to every member (docs/message-format.md#groups);
   * to a member it adds, with the group's full state after it.
   */
  z.object({
    v: z.literal(1),
    type: z.literal('group-update'),
    signed: signedGroupUpdateSchema,
    snapshot: groupSnapshotSchema.optional(),
    /** Instead of `snapshot` when the state does not fit in one content: one of its numbered parts. */
    snapshotPart: groupSnapshotPartSchema.optional(),
    sentAt: z.number().int().nonnegative(),
  }),
  /** The sender's SenderKeyDistributionMessage for a group; accepted only pairwise, from a current member. */
  z.object({
    v: z.literal(1),
    type: z.literal('skdm'),
    groupId: groupIdSchema,
    skdm: z.string().min(4).max(1024).regex(PADDED_BASE64),
    sentAt: z.number().int().nonnegative(),
  }),
  /** A group message: travels only sender-key encrypted, sealed with the group id (never pairwise, except a retry's resend). */
  z.object({
    v: z.literal(1),
    type: z.literal('group-text'),
    groupId: groupIdSchema,
    id: z.uuid(),
    sentAt: z.number().int().nonnegative(),
    body: z.string().max(MAX_BODY_CHARS),
    /** One upload, one pointer for the whole group. */
    attachments: attachmentsField,
  }),
  /** A member could not decrypt a group message: libsignal's DecryptionErrorMessage, pairwise to its sender. */
  z.object({
    v: z.literal(1),
    type: z.literal('group-retry'),
    groupId: groupIdSchema,
    request: z.string().min(4).max(1024).regex(PADDED_BASE64),
    /** The failed SenderKeyMessage's cleartext header: which message of the sender's log to resend. */
    distributionId: z.uuid(),
    chainId: z.number().int().nonnegative().max(0xffffffff),
    iteration: z.number().int().nonnegative().max(0xffffffff),
    sentAt: z.number().int().nonnegative(),
  }),
]);

export type Content = z.infer<typeof contentSchema>;
export type TextContent = Extract<Content, { type: 'text' }>;

/** JSON, then 0x80 and zeros up to a multiple of 160 bytes. */
export function encodeContent(content: Content): Uint8Array<ArrayBuffer> {
  const json = new TextEncoder().encode(JSON.stringify(contentSchema.parse(content)));
  const padded = new Uint8Array(Math.ceil((json.length + 1) / PAD_BLOCK) * PAD_BLOCK);
  padded.set(json);
  padded[json.length] = 0x80;
  return padded;
}

/** Strips padding and validates; throws on anything malformed. */
export function decodeContent(bytes: Uint8Array): Content {
  let end = bytes.length - 1;
  while (end >= 0 && bytes[end] === 0) end--;
  if (end < 0 || bytes[end] !== 0x80) throw new Error('bad padding');
  const json: unknown = JSON.parse(
    new TextDecoder('utf-8', { fatal: true }).decode(bytes.subarray(0, end)),
  );
  return contentSchema.parse(json);
}
