import { z } from 'zod';
import { PADDED_BASE64 } from '../../../../shared/protocol/encoding.ts';
import { normalizeDisplayName } from '../../profile/display-name.ts';

// The members and records of the account's own state in a backup
// (docs/backup-format.md): its keys, the uses of its last-resort keys, its key
// id counters and settings, and the member types the other records share.

/** Base64 of at most 1 MiB (keys, records, identity keys). */
export const base64 = z
  .string()
  .max(1 << 20)
  .regex(PADDED_BASE64);
/** A time in epoch ms. */
export const time = z.number().int().nonnegative();
const keyId = z.number().int().min(1).max(0xffffff);
/** A message's uuid (1:1 or group) as the profile stores it: 8-4-4-4-12 hex digits. */
export const messageUuid = z
  .string()
  .regex(/^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i);

/** True if `name` is a display name exactly as the profile stores one (normalizeDisplayName leaves it unchanged). */
function isStoredName(name: string): boolean {
  try {
    return normalizeDisplayName(name) === name;
  } catch {
    return false;
  }
}
/**
 * A name the profile could not have stored (too long, control characters, not NFC, untrimmed) is tampering:
 * Sotto writes only stored names, and exports a contact's unusable one as null.
 */
export const displayName = z.string().max(1000).refine(isStoredName, 'not a stored display name');

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

/** A key as version 1 carries it. */
export const keyRecordSchema = z.strictObject({
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
export const keyRecordSchemaV2 = keyRecordSchema
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

/** One use of a last-resort Kyber key (its signed key and the peer's base key), for replay protection. */
export const keyUseRecordSchema = z.strictObject({
  type: z.literal('keyUse'),
  kyberId: keyId,
  signedId: keyId,
  baseKey: base64,
});
export type KeyUseRecord = z.infer<typeof keyUseRecordSchema>;

/** A prekey id allocator (note the kinds are not `key`'s). */
export const keyCounterRecordSchema = z.strictObject({
  type: z.literal('keyCounter'),
  kind: z.enum(['pre_key', 'signed_pre_key', 'kyber_pre_key']),
  nextId: keyId,
});
export type KeyCounterRecord = z.infer<typeof keyCounterRecordSchema>;

/** One setting row (the ones carried elsewhere are refused in version 2 and later). */
export const settingRecordSchema = z.strictObject({
  type: z.literal('setting'),
  key: z.string().min(1).max(200),
  // Settings are short (addresses, names of choices); the cap keeps every valid line far below the reader's 2 MiB.
  value: z.string().max(64 * 1024),
});
export type SettingRecord = z.infer<typeof settingRecordSchema>;
