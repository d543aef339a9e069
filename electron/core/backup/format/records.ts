import { z } from 'zod';
import { mutedUntilSchema, unmuted } from './mute-records.ts';
import {
  type AccountId,
  accountIdFromLegacy,
  accountIdSchema,
  LEGACY_ACCOUNT_ID,
} from '../../../../shared/protocol/account-id.ts';
import { MAX_BODY_CHARS } from '../../../../shared/protocol/content.ts';
import { deliveryTokenSchema, relayIdSchema } from '../../../../shared/relay/protocol.ts';
import {
  type GroupMessageRecord,
  type GroupRecord,
  groupMessageRecordSchema,
  groupRecordSchema,
} from '../group-records.ts';
import {
  type AttachmentDataRecord,
  type AttachmentRecord,
  attachmentDataRecordSchema,
  attachmentRecordSchema,
  attachmentRecordSchemaV3,
  attachmentRecordSchemaV6,
} from './attachment-records.ts';
import {
  base64,
  displayName,
  type KeyCounterRecord,
  keyCounterRecordSchema,
  keyRecordSchema,
  keyRecordSchemaV2,
  type KeyUseRecord,
  keyUseRecordSchema,
  messageUuid,
  type SettingRecord,
  settingRecordSchema,
  time,
  UNCARRIED_SETTINGS,
} from './account-records.ts';
import {
  ATTACHMENT_TYPES,
  ATTACHMENT_VERSION,
  BACKUP_FORMAT,
  BACKUP_VERSION,
  countsSchema,
  type CountedType,
  type ReadableVersion,
} from './record-order.ts';
import {
  type DeletedMessageRecord,
  deletedMessageRecordSchema,
  deletedMessageRecordSchemaV5,
} from './deletion-records.ts';

// The records of the inner backup stream (docs/backup-format.md): one JSON
// object per line, `type` first. These schemas are the contract a reader
// checks before anything is written; record-order.ts holds the versions, the
// order and the counts, account-records.ts the account's own state.

const count = z.number().int().nonnegative();

/** The schemas of one version; `accountId` reads that version's account ids into current ones. */
function schemasFor<V extends ReadableVersion, Id extends z.ZodType>(version: V, accountId: Id) {
  return {
    manifest: z.strictObject({
      type: z.literal('manifest'),
      format: z.literal(BACKUP_FORMAT),
      version: z.literal(version),
      app: z.strictObject({ name: z.string().max(100), version: z.string().max(100) }),
      createdAt: time,
      accountId,
      schemaVersion: z.number().int().min(1),
      counts: countsSchema,
    }),
    account: z.strictObject({
      type: z.literal('account'),
      accountId,
      displayName,
      deviceId: z.number().int().min(1).max(127),
      registrationId: z.number().int().min(1).max(0x3fff),
      identityKeyPair: base64,
      createdAt: time,
    }),
    key: keyRecordSchema,
    keyUse: keyUseRecordSchema,
    keyCounter: keyCounterRecordSchema,
    setting: settingRecordSchema,
    contact: z.strictObject({
      type: z.literal('contact'),
      accountId,
      displayName: displayName.nullable(),
      relay: z.string().max(2000).nullable(),
      createdAt: time,
      identity: z
        .strictObject({
          publicKey: base64,
          trust: z.enum(['trusted', 'changed']),
          verified: z.boolean(),
          firstSeenAt: time,
          changedAt: time.nullable(),
        })
        .nullable(),
    }),
    conversation: z.strictObject({
      type: z.literal('conversation'),
      with: accountId,
      createdAt: time,
      lastMessageAt: time.nullable(),
      unreadCount: count,
      identityChanged: z.boolean(),
      draft: z.string().max(MAX_BODY_CHARS).nullable(),
      mutedUntil: mutedUntilSchema,
    }),
    message: z.strictObject({
      type: z.literal('message'),
      uuid: messageUuid,
      with: accountId,
      outgoing: z.boolean(),
      senderAccount: accountId,
      senderDevice: z.number().int().min(1).max(127),
      sentAt: time,
      receivedAt: time,
      status: z.enum(['queued', 'sent', 'delivered', 'failed', 'received']),
      body: z.string().max(MAX_BODY_CHARS),
    }),
    group: groupRecordSchema,
    groupMessage: groupMessageRecordSchema,
  };
}

/** A contact's pending (or accepted) identity move, as identity_moves keeps it (docs/message-format.md#identity-reset). */
const moveSchema = z.strictObject({
  to: accountIdSchema,
  identityKey: base64,
  relay: z.string().max(2000),
  relayId: relayIdSchema,
  token: deliveryTokenSchema,
  issuedAt: time,
  receivedAt: time,
  acceptedAt: time.nullable(),
});

const base3 = schemasFor(4, accountIdSchema);
/**
 * Version 4: version 1's records, the state relay protocol v2 and the identity
 * rules added (0006, 0007), attachments (0011) and mutes (0014).
 */
const version4 = {
  ...base3,
  account: base3.account.extend({
    deliveryToken: deliveryTokenSchema,
    relayId: relayIdSchema.nullable(),
  }),
  key: keyRecordSchemaV2,
  setting: settingRecordSchema.refine(
    (r) => !UNCARRIED_SETTINGS.includes(r.key),
    'setting carried elsewhere',
  ),
  contact: base3.contact.extend({
    relayId: relayIdSchema.nullable(),
    deliveryToken: deliveryTokenSchema.nullable(),
    tokenSentAt: time.nullable(),
    blocked: z.boolean(),
    move: moveSchema.nullable(),
  }),
  attachment: attachmentRecordSchemaV3,
  attachmentData: attachmentDataRecordSchema,
};
/** Version 5: version 4 and the deleted messages (0017). */
const version5 = {
  ...version4,
  manifest: schemasFor(5, accountIdSchema).manifest,
  deletedMessage: deletedMessageRecordSchemaV5,
};
/** Version 6: version 5, each deleted message with its sender (0020) and the attachments' durations (0018). */
const version6 = {
  ...version5,
  manifest: schemasFor(6, accountIdSchema).manifest,
  deletedMessage: deletedMessageRecordSchema,
  attachment: attachmentRecordSchemaV6,
};
/** Version 7: version 6, each attachment naming its message's sender too (0020). */
const current = {
  ...version6,
  manifest: schemasFor(BACKUP_VERSION, accountIdSchema).manifest,
  attachment: attachmentRecordSchema,
};
/** Version 3: version 4 without mutes (read as not muted). */
const version3 = {
  ...version4,
  manifest: schemasFor(3, accountIdSchema).manifest,
  conversation: version4.conversation.omit({ mutedUntil: true }).transform(unmuted),
  group: version4.group.omit({ mutedUntil: true }).transform(unmuted),
};
/** Version 2: version 3 without attachments (the reader refuses their records in it). */
const version2 = { ...version3, manifest: schemasFor(2, accountIdSchema).manifest };
const legacyAccountId = z
  .string()
  .regex(LEGACY_ACCOUNT_ID)
  .transform((id): AccountId => accountIdFromLegacy(id));
const base1 = schemasFor(1, legacyAccountId);
/** Version 1 as frozen, read into version 2's shapes: what it never held is null (or false, current). */
const legacy = {
  ...base1,
  account: base1.account.transform((r) => ({ ...r, deliveryToken: null, relayId: null })),
  key: keyRecordSchema.transform((r) => ({
    ...r,
    state: 'current' as const,
    supersededAt: null,
    handedOutAt: null,
  })),
  contact: base1.contact.transform((r) => ({
    ...r,
    relayId: null,
    deliveryToken: null,
    tokenSentAt: null,
    blocked: false,
    move: null,
  })),
  conversation: base1.conversation.omit({ mutedUntil: true }).transform(unmuted),
  group: version3.group,
};
const SCHEMAS = {
  1: legacy,
  2: version2,
  3: version3,
  4: version4,
  5: version5,
  6: version6,
  7: current,
} as const;

export const manifestSchema = current.manifest;
/** A manifest as read (a version 1 manifest keeps its version; its account id is mapped). */
export type BackupManifest = z.infer<(typeof SCHEMAS)[ReadableVersion]['manifest']>;

export type AccountRecord = z.output<(typeof SCHEMAS)[ReadableVersion]['account']>;
export type KeyRecord = z.output<(typeof SCHEMAS)[ReadableVersion]['key']>;
export type ContactRecord = z.output<(typeof SCHEMAS)[ReadableVersion]['contact']>;
export type ConversationRecord = z.output<(typeof SCHEMAS)[ReadableVersion]['conversation']>;
export type MessageRecord = z.infer<typeof current.message>;

/** Records as written (account ids are plain strings before validation brands them). */
export type AccountRecordIn = z.input<typeof current.account>;
export type ContactRecordIn = z.input<typeof current.contact>;
export type KeyRecordIn = z.input<typeof current.key>;
export type ConversationRecordIn = z.input<typeof current.conversation>;
export type BackupManifestIn = z.input<typeof manifestSchema>;

/** A record between the manifest and the trailer. */
export type DataRecord =
  | AccountRecord
  | KeyRecord
  | KeyUseRecord
  | KeyCounterRecord
  | SettingRecord
  | ContactRecord
  | ConversationRecord
  | MessageRecord
  | GroupRecord
  | GroupMessageRecord
  | DeletedMessageRecord
  | AttachmentRecord
  | AttachmentDataRecord;

/** Validates a manifest of a readable version; undefined if it does not match that version's schema. */
export function parseManifestRecord(
  version: ReadableVersion,
  value: unknown,
): BackupManifest | undefined {
  const result = (SCHEMAS[version].manifest as z.ZodType<BackupManifest>).safeParse(value);
  return result.success ? result.data : undefined;
}

/** Validates one parsed data record of a known type; undefined if it does not match its version's schema. */
export function parseDataRecord(
  version: ReadableVersion,
  type: CountedType,
  value: unknown,
): DataRecord | undefined {
  if (version < ATTACHMENT_VERSION && ATTACHMENT_TYPES.includes(type)) return undefined;
  // Versions before 5 have no deletedMessage schema: such a record is refused below.
  const schemas = SCHEMAS[version] as Partial<Record<CountedType, z.ZodType<DataRecord>>>;
  const result = schemas[type]?.safeParse(value);
  return result?.success ? result.data : undefined;
}
