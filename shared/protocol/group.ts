import { z } from 'zod';
import { relayIdSchema, deliveryTokenSchema } from '../relay/protocol.ts';
import { accountIdSchema } from './account-id.ts';

// Signed group updates (docs/message-format.md#groups). A group has no
// server: its state is what its members' devices derived from a chain of
// updates, each signed by its author's identity key over a canonical byte
// string and naming the state it was built on (revision and head hash).

/** Most members a group may have, ourselves included. */
export const MAX_GROUP_MEMBERS = 1000;
/** Longest group title, in characters. */
export const MAX_GROUP_TITLE_CHARS = 128;
/** Domain separator of the signed bytes: a signature over an update is good for nothing else. */
export const GROUP_UPDATE_DOMAIN = 'sotto/group-update/v1';

const base64Of = (bytes: number) =>
  z
    .string()
    .regex(
      new RegExp(
        `^[A-Za-z0-9+/]{${4 * Math.floor(bytes / 3)}}${['', '[A-Za-z0-9+/]{2}==', '[A-Za-z0-9+/]{3}='][bytes % 3]}$`,
      ),
    );

/** A group id: 32 random bytes, base64. */
export const groupIdSchema = base64Of(32);
/** An identity public key: 33 bytes, base64. */
export const identityKeySchema = base64Of(33);
/** A SHA-256 digest, base64. */
export const digestSchema = base64Of(32);
/** An XEdDSA signature: 64 bytes, base64. */
export const signatureSchema = base64Of(64);

/** A member as an invite introduces them: enough to seal to them and check what they sign. */
export const groupMemberSchema = z.strictObject({
  accountId: accountIdSchema,
  identityKey: identityKeySchema,
  name: z.string().min(1).max(128),
  relay: z.string().min(1).max(1024),
  relayId: relayIdSchema,
  token: deliveryTokenSchema,
  admin: z.boolean(),
});
export type GroupMember = z.infer<typeof groupMemberSchema>;

const titleSchema = z.string().min(1).max(MAX_GROUP_TITLE_CHARS);

/** What an update does. `create` lists every member (the author first, an admin). */
export const groupActionSchema = z.discriminatedUnion('kind', [
  z.strictObject({
    kind: z.literal('create'),
    title: titleSchema,
    members: z.array(groupMemberSchema).min(1).max(MAX_GROUP_MEMBERS),
  }),
  z.strictObject({ kind: z.literal('add'), member: groupMemberSchema }),
  z.strictObject({ kind: z.literal('remove'), accountId: accountIdSchema }),
  z.strictObject({ kind: z.literal('leave') }),
  z.strictObject({ kind: z.literal('rename'), title: titleSchema }),
  z.strictObject({ kind: z.literal('admin'), accountId: accountIdSchema }),
]);
export type GroupAction = z.infer<typeof groupActionSchema>;

/**
 * The signed part. `revision` is the revision this update produces (the
 * state it builds on has `revision - 1`; a create is revision 0); `parent`
 * is that state's head hash (32 zero bytes for a create).
 */
export const groupUpdateSchema = z.strictObject({
  groupId: groupIdSchema,
  revision: z.number().int().nonnegative().max(Number.MAX_SAFE_INTEGER),
  parent: digestSchema,
  author: accountIdSchema,
  action: groupActionSchema,
  signedAt: z.number().int().nonnegative(),
});
export type GroupUpdate = z.infer<typeof groupUpdateSchema>;

/** An update with its author's signature over `groupUpdateBytes`. */
export const signedGroupUpdateSchema = z.strictObject({
  update: groupUpdateSchema,
  signature: signatureSchema,
});
export type SignedGroupUpdate = z.infer<typeof signedGroupUpdateSchema>;

/** A group's full state: what a newly added member receives with the update that added them. */
export const groupSnapshotSchema = z.strictObject({
  groupId: groupIdSchema,
  title: titleSchema,
  revision: z.number().int().nonnegative(),
  head: digestSchema,
  members: z.array(groupMemberSchema).min(1).max(MAX_GROUP_MEMBERS),
});
export type GroupSnapshot = z.infer<typeof groupSnapshotSchema>;

/** Most parts a snapshot may be split into (1,000 long member cards fit in far fewer). */
export const MAX_SNAPSHOT_PARTS = 32;

/**
 * One numbered part of a snapshot too large for one content: the state's
 * fields and a slice of its members, in order. The new member applies the
 * state only when every part of the same update has arrived.
 */
export const groupSnapshotPartSchema = z
  .strictObject({
    groupId: groupIdSchema,
    title: titleSchema,
    revision: z.number().int().nonnegative(),
    head: digestSchema,
    part: z.number().int().nonnegative(),
    parts: z.number().int().min(2).max(MAX_SNAPSHOT_PARTS),
    members: z.array(groupMemberSchema).min(1).max(MAX_GROUP_MEMBERS),
  })
  .refine((p) => p.part < p.parts, { message: 'part out of range' });
export type GroupSnapshotPart = z.infer<typeof groupSnapshotPartSchema>;

/**
 * The signed bytes: the domain, a zero byte, then the update as JSON with
 * its keys in schema order and no whitespace (what `JSON.stringify` of the
 * parsed update gives). Parsing first fixes the key order, so a receiver
 * recomputes exactly the bytes the author signed.
 */
export function groupUpdateBytes(update: GroupUpdate): Uint8Array<ArrayBuffer> {
  return new TextEncoder().encode(
    `${GROUP_UPDATE_DOMAIN}\0${JSON.stringify(groupUpdateSchema.parse(update))}`,
  );
}
