import { z } from 'zod';
import { fromBase32 } from './encoding.ts';

/**
 * An account id: a lowercase, hyphenated UUID-shaped string (a libsignal ACI
 * ServiceId) made of the first 16 bytes of SHA-256(ACCOUNT_ID_DOMAIN ||
 * identity public key) (docs/message-format.md#account-ids). The UUID shape
 * lets the id be a libsignal address name everywhere, including
 * multi-recipient sealed sender, which requires ServiceIds.
 */
export const accountIdSchema = z
  .string()
  .regex(
    /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/,
    'an account id is a lowercase UUID',
  )
  .brand<'AccountId'>();

export type AccountId = z.infer<typeof accountIdSchema>;

/** Domain separation for the account-id hash (unchanged since the first format). */
export const ACCOUNT_ID_DOMAIN = 'sotto/account-id/v1';

/** Bytes of the digest an account id keeps. */
export const ACCOUNT_ID_BYTES = 16;

function uuidFromBytes(bytes: Uint8Array): string {
  const hex = Array.from(bytes.subarray(0, ACCOUNT_ID_BYTES), (b) =>
    b.toString(16).padStart(2, '0'),
  ).join('');
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20, 32)}`;
}

/**
 * The account id for SHA-256(ACCOUNT_ID_DOMAIN || serialized identity public key):
 * its first 16 bytes as a UUID string. The caller hashes (shared/ has no crypto).
 */
export function accountIdFromDigest(sha256: Uint8Array): AccountId {
  if (sha256.length < ACCOUNT_ID_BYTES) throw new Error('digest too short');
  return accountIdSchema.parse(uuidFromBytes(sha256));
}

/** The first format (protocol 1, backups written before it): base32 of 20 bytes of the same digest. */
export const LEGACY_ACCOUNT_ID = /^[a-z2-7]{32}$/;

/**
 * The current id of an account named in the first format. Both are prefixes
 * of the same digest, so the mapping needs no key: base32-decode, keep 16 bytes.
 */
export function accountIdFromLegacy(legacy: string): AccountId {
  if (!LEGACY_ACCOUNT_ID.test(legacy)) throw new Error('not a legacy account id');
  return accountIdFromDigest(fromBase32(legacy));
}
