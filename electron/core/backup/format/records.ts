import { z } from 'zod';
import { mutedUntilSchema, unmuted } from './mute-records.ts';
import {
  type AccountId,
  accountIdFromLegacy,
  accountIdSchema,
  LEGACY_ACCOUNT_ID,
} from '../../../../shared/protocol/account-id.ts';
import { MAX_BODY_CHARS } from '../../../../shared/protocol/content.ts';
import { PADDED_BASE64 } from '../../../../shared/protocol/encoding.ts';
import { deliveryTokenSchema, relayIdSchema } from '../../../../shared/relay/protocol.ts';
import { normalizeDisplayName } from '../../profile/display-name.ts';
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
} from './attachment-records.ts';

// The records of the inner backup stream (docs/backup-format.md): one JSON
// object per line, `type` first. These schemas are the contract a reader
// checks before anything is written.

/** The value of `format` in every manifest. */
export const BACKUP_FORMAT = 'sotto-backup';
/**
 * The inner stream version this build writes. Version 3 added attachment
 * records: a reader of version 2 refuses it (BACKUP_UNSUPPORTED_VERSION)
 * rather than restore messages without their files. Version 4 added mutes
 * (mute-records.ts): a reader of version 3 refuses it rather than call the
 * new member tampering.
 */
export const BACKUP_VERSION = 4;
/**
 * Versions this build reads. Version 1 is version 2 with account ids in the
 * first, base32 format (Sotto before relay protocol v2): they are mapped to
 * the current ids while reading, so nothing after the reader sees them.
 * Version 2 is version 3 without attachment records; version 3 is version 4
 * without `mutedUntil`.
 */
export const READABLE_VERSIONS = [1, 2, 3, 4] as const;
export type ReadableVersion = (typeof READABLE_VERSIONS)[number];

/** Record types in the order they must appear (manifest first, trailer last). */
export const RECORD_ORDER = [
  'manifest',
  'account',
  'key',
  'keyUse',
  'keyCounter',
  'setting',
  'contact',
  'conversation',
  'message',
  'group',
  'groupMessage',
  'attachment',
  'attachmentData',
  'trailer',
] as const;

export type RecordType = (typeof RECORD_ORDER)[number];
/** Record types that are counted (all but manifest and trailer). */
export type CountedType = Exclude<RecordType, 'manifest' | 'trailer'>;
export const COUNTED_TYPES = RECORD_ORDER.slice(1, -1) as readonly CountedType[];
/** Types only version 3 may hold; they share one place in the order (a file's data follows its record). */
export const ATTACHMENT_TYPES: readonly CountedType[] = ['attachment', 'attachmentData'];
/** The first version with attachment records. */
export const ATTACHMENT_VERSION = 3;

const base64 = z
  .string()
  .max(1 << 20)
  .regex(PADDED_BASE64);
const time = z.number().int().nonnegative();
const count = z.number().int().nonnegative();
const uuid = z.string().regex(/^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i);
const keyId = z.number().int().min(1).max(0xffffff);

/** True if `name` is a display name exactly as the profile stores one (normalizeDisplayName leaves it unchanged). */
function isStoredName(name: string): boolean {
  try {
    return normalizeDisplayName(name) === name;
  } catch {
    return false;
  }
}
// A name the profile could not have stored (too long, control characters, not NFC, untrimmed) is tampering:
// Sotto writes only stored names, and exports a contact's unusable one as null.
const displayName = z.string().max(1000).refine(isStoredName, 'not a stored display name');

/**
 * Settings that version 2 carries as typed members (the account record's
 * `deliveryToken` and `relayId`) or never carries (where the token was
 * registered, the key publication mark: both are redone after a restore).
 * A version 2 setting record with one of these keys is tampering; in a
 * version 1 file they are ignored on import.
 */
export const UNCARRIED_SETTINGS: readonly string[] = [
  'delivery.token',
  'delivery.tokenRegisteredWith',
  'relay.id',
  'keys.publishedTo',
];

/** Record types a version 2 file from before they existed does not count (0 when absent). */
const LATER_TYPES: readonly CountedType[] = ['group', 'groupMessage', ...ATTACHMENT_TYPES];

export const countsSchema = z.strictObject(
  Object.fromEntries(
    COUNTED_TYPES.map((t) => [t, LATER_TYPES.includes(t) ? count.default(0) : count]),
  ) as Record<CountedType, typeof count>,
);
export type RecordCounts = z.infer<typeof countsSchema>;

/** Only what every version's manifest has: read first, to refuse another version cleanly. */
export const manifestHeadSchema = z.object({
  type: z.literal('manifest'),
  format: z.literal(BACKUP_FORMAT),
  version: z.number().int().nonnegative(),
});

const keyRecordSchema = z.strictObject({
  type: z.literal('key'),
  kind: z.enum(['pre', 'signed', 'kyber']),
  id: keyId,
  record: base64,
  createdAt: time,
  published: z.boolean(),
  lastResort: z.boolean(),
});

/**
 * Version 2 keys carry the key maintenance state (crypto/key-maintenance.ts):
 * signed and last-resort keys their lifecycle, one-time keys when the relay
 * handed them out. Combinations the maintenance never makes are tampering.
 */
const keyRecordSchemaV2 = keyRecordSchema
  .extend({
    state: z.enum(['pending', 'current', 'previous']),
    supersededAt: time.nullable(),
    handedOutAt: time.nullable(),
  })
  .refine((k) => {
    const rotating = k.kind === 'signed' || (k.kind === 'kyber' && k.lastResort);
    if (!rotating) return k.state === 'current' && k.supersededAt === null && k.published;
    return k.handedOutAt === null && (k.state === 'previous') === (k.supersededAt !== null);
  }, 'key state');

const keyUseRecordSchema = z.strictObject({
  type: z.literal('keyUse'),
  kyberId: keyId,
  signedId: keyId,
  baseKey: base64,
});

const keyCounterRecordSchema = z.strictObject({
  type: z.literal('keyCounter'),
  kind: z.enum(['pre_key', 'signed_pre_key', 'kyber_pre_key']),
  nextId: keyId,
});

const settingRecordSchema = z.strictObject({
  type: z.literal('setting'),
  key: z.string().min(1).max(200),
  // Settings are short (addresses, names of choices); the cap keeps every valid line far below the reader's 2 MiB.
  value: z.string().max(64 * 1024),
});

export const trailerSchema = z.strictObject({
  type: z.literal('trailer'),
  counts: countsSchema,
  sha256: z.string().regex(/^[0-9a-f]{64}$/),
});

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
      uuid,
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

const base3 = schemasFor(BACKUP_VERSION, accountIdSchema);
/**
 * Version 4: version 1's records, the state relay protocol v2 and the identity
 * rules added (0006, 0007), attachments (0011) and mutes (0014).
 */
const current = {
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
  attachment: attachmentRecordSchema,
  attachmentData: attachmentDataRecordSchema,
};
/** Version 3: version 4 without mutes (read as not muted). */
const version3 = {
  ...current,
  manifest: schemasFor(3, accountIdSchema).manifest,
  conversation: current.conversation.omit({ mutedUntil: true }).transform(unmuted),
  group: current.group.omit({ mutedUntil: true }).transform(unmuted),
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
const SCHEMAS = { 1: legacy, 2: version2, 3: version3, 4: current } as const;

export const manifestSchema = current.manifest;
/** A manifest as read (a version 1 manifest keeps its version; its account id is mapped). */
export type BackupManifest = z.infer<(typeof SCHEMAS)[ReadableVersion]['manifest']>;

export type AccountRecord = z.output<(typeof SCHEMAS)[ReadableVersion]['account']>;
export type KeyRecord = z.output<(typeof SCHEMAS)[ReadableVersion]['key']>;
export type KeyUseRecord = z.infer<typeof keyUseRecordSchema>;
export type KeyCounterRecord = z.infer<typeof keyCounterRecordSchema>;
export type SettingRecord = z.infer<typeof settingRecordSchema>;
export type ContactRecord = z.output<(typeof SCHEMAS)[ReadableVersion]['contact']>;
export type ConversationRecord = z.output<(typeof SCHEMAS)[ReadableVersion]['conversation']>;
export type MessageRecord = z.infer<typeof current.message>;
export type Trailer = z.infer<typeof trailerSchema>;

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
  | AttachmentRecord
  | AttachmentDataRecord;

/** True if this build reads inner stream `version`. */
export function isReadableVersion(version: number): version is ReadableVersion {
  return (READABLE_VERSIONS as readonly number[]).includes(version);
}

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
  const schemas = SCHEMAS[version] as Partial<Record<CountedType, z.ZodType<DataRecord>>>;
  const result = schemas[type]?.safeParse(value);
  return result?.success ? result.data : undefined;
}

/** Zero for every counted type. */
export function emptyCounts(): RecordCounts {
  return Object.fromEntries(COUNTED_TYPES.map((t) => [t, 0])) as RecordCounts;
}
