import { createHash } from 'node:crypto';
import type { PublicKey } from '@signalapp/libsignal-client';
import { type AccountId, accountIdSchema } from '../../../shared/protocol/account-id.ts';
import { toBase32 } from '../../../shared/protocol/encoding.ts';

const DOMAIN = Buffer.from('sotto/account-id/v1', 'utf8');

/**
 * account id = base32(first 20 bytes of SHA-256("sotto/account-id/v1" || identity
 * public key, libsignal-serialized: 0x05 || 32 bytes)).
 */
export function deriveAccountId(identityKey: PublicKey): AccountId {
  const digest = createHash('sha256').update(DOMAIN).update(identityKey.serialize()).digest();
  return accountIdSchema.parse(toBase32(digest.subarray(0, 20)));
}
