import { z } from 'zod';
import { accountIdSchema } from '../../../../shared/protocol/account-id.ts';
import { MAX_BODY_CHARS } from '../../../../shared/protocol/content.ts';

// The records of the inner backup stream (docs/backup-format.md): one JSON
// object per line, `type` first. These schemas are the contract a reader
// checks before anything is written.

/** The value of `format` in every manifest. */
export const BACKUP_FORMAT = 'sotto-backup';
/** The inner stream version this build writes and reads. */
export const BACKUP_VERSION = 1;

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
  'trailer',
] as const;

export type RecordType = (typeof RECORD_ORDER)[number];
/** Record types that are counted (all but manifest and trailer). */
export type CountedType = Exclude<RecordType, 'manifest' | 'trailer'>;
export const COUNTED_TYPES = RECORD_ORDER.slice(1, -1) as readonly CountedType[];

const base64 = z.string().regex(/^[A-Za-z0-9+/]*={0,2}$/).max(1 << 20);
const time = z.number().int().nonnegative();
const count = z.number().int().nonnegative();
const uuid = z.string().regex(/^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i);
const keyId = z.number().int().min(1).max(0xffffff);

export const countsSchema = z.strictObject(
  Object.fromEntries(COUNTED_TYPES.map((t) => [t, count])) as Record<CountedType, typeof count>,
);
export type RecordCounts = z.infer<typeof countsSchema>;

/** Only what every version's manifest has: read first, to refuse a newer version cleanly. */
export const manifestHeadSchema = z.object({
  type: z.literal('manifest'),
  format: z.literal(BACKUP_FORMAT),
  version: z.number().int().min(1),
});

export const manifestSchema = z.strictObject({
  type: z.literal('manifest'),
  format: z.literal(BACKUP_FORMAT),
  version: z.literal(BACKUP_VERSION),
  app: z.strictObject({ name: z.string().max(100), version: z.string().max(100) }),
  createdAt: time,
  accountId: accountIdSchema,
  schemaVersion: z.number().int().min(1),
  counts: countsSchema,
});
export type BackupManifest = z.infer<typeof manifestSchema>;

export const accountRecordSchema = z.strictObject({
  type: z.literal('account'),
  accountId: accountIdSchema,
  displayName: z.string().max(1000),
  deviceId: z.number().int().min(1).max(127),
  registrationId: z.number().int().min(1).max(0x3fff),
  identityKeyPair: base64,
  createdAt: time,
});

export const keyRecordSchema = z.strictObject({
  type: z.literal('key'),
  kind: z.enum(['pre', 'signed', 'kyber']),
  id: keyId,
  record: base64,
  createdAt: time,
  published: z.boolean(),
  lastResort: z.boolean(),
});

export const keyUseRecordSchema = z.strictObject({
  type: z.literal('keyUse'),
  kyberId: keyId,
  signedId: keyId,
  baseKey: base64,
});

export const keyCounterRecordSchema = z.strictObject({
  type: z.literal('keyCounter'),
  kind: z.enum(['pre_key', 'signed_pre_key', 'kyber_pre_key']),
  nextId: keyId,
});

export const settingRecordSchema = z.strictObject({
  type: z.literal('setting'),
  key: z.string().min(1).max(200),
  value: z.string().max(1 << 20),
});

export const contactRecordSchema = z.strictObject({
  type: z.literal('contact'),
  accountId: accountIdSchema,
  displayName: z.string().max(1000).nullable(),
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
});

export const conversationRecordSchema = z.strictObject({
  type: z.literal('conversation'),
  with: accountIdSchema,
  createdAt: time,
  lastMessageAt: time.nullable(),
  unreadCount: count,
  identityChanged: z.boolean(),
  draft: z.string().max(MAX_BODY_CHARS).nullable(),
});

export const messageRecordSchema = z.strictObject({
  type: z.literal('message'),
  uuid,
  with: accountIdSchema,
  outgoing: z.boolean(),
  senderAccount: accountIdSchema,
  senderDevice: z.number().int().min(1).max(127),
  sentAt: time,
  receivedAt: time,
  status: z.enum(['queued', 'sent', 'delivered', 'failed', 'received']),
  body: z.string().max(MAX_BODY_CHARS),
});

export const trailerSchema = z.strictObject({
  type: z.literal('trailer'),
  counts: countsSchema,
  sha256: z.string().regex(/^[0-9a-f]{64}$/),
});

export type AccountRecord = z.infer<typeof accountRecordSchema>;
export type KeyRecord = z.infer<typeof keyRecordSchema>;
export type KeyUseRecord = z.infer<typeof keyUseRecordSchema>;
export type KeyCounterRecord = z.infer<typeof keyCounterRecordSchema>;
export type SettingRecord = z.infer<typeof settingRecordSchema>;
export type ContactRecord = z.infer<typeof contactRecordSchema>;
export type ConversationRecord = z.infer<typeof conversationRecordSchema>;
export type MessageRecord = z.infer<typeof messageRecordSchema>;
export type Trailer = z.infer<typeof trailerSchema>;

/** Records as written (account ids are plain strings before validation brands them). */
export type AccountRecordIn = z.input<typeof accountRecordSchema>;
export type ContactRecordIn = z.input<typeof contactRecordSchema>;
export type ConversationRecordIn = z.input<typeof conversationRecordSchema>;
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
  | MessageRecord;

const dataSchemas: Record<CountedType, z.ZodType<DataRecord>> = {
  account: accountRecordSchema,
  key: keyRecordSchema,
  keyUse: keyUseRecordSchema,
  keyCounter: keyCounterRecordSchema,
  setting: settingRecordSchema,
  contact: contactRecordSchema,
  conversation: conversationRecordSchema,
  message: messageRecordSchema,
};

/** Validates one parsed data record of a known type; undefined if it does not match its schema. */
export function parseDataRecord(type: CountedType, value: unknown): DataRecord | undefined {
  const result = dataSchemas[type].safeParse(value);
  return result.success ? result.data : undefined;
}

/** Zero for every counted type. */
export function emptyCounts(): RecordCounts {
  return Object.fromEntries(COUNTED_TYPES.map((t) => [t, 0])) as RecordCounts;
}
