import { z } from 'zod';
import { toBase32 } from './encoding.ts';

/**
 * An account id: 32 lowercase base32 characters (20 bytes). Derived from the
 * identity public key when the account is created (docs/message-format.md#account-ids).
 */
export const accountIdSchema = z
  .string()
  .regex(/^[a-z2-7]{32}$/, 'an account id is 32 base32 characters')
  .brand<'AccountId'>();

export type AccountId = z.infer<typeof accountIdSchema>;

/** Domain separation for the account-id hash. */
export const ACCOUNT_ID_DOMAIN = 'sotto/account-id/v1';

/**
 * The account id for SHA-256(ACCOUNT_ID_DOMAIN || serialized identity public key):
 * base32 of its first 20 bytes. The caller hashes (shared/ has no crypto).
 */
export function accountIdFromDigest(sha256: Uint8Array): AccountId {
  return accountIdSchema.parse(toBase32(sha256.subarray(0, 20)));
}
