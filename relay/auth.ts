import { createHash, timingSafeEqual } from 'node:crypto';
import { PublicKey } from '@signalapp/libsignal-client';
import {
  ACCOUNT_ID_DOMAIN,
  accountIdFromDigest,
  type AccountId,
} from '../shared/protocol/account-id.ts';
import { authMessage } from '../shared/relay/protocol.ts';
import { decodeBase64 } from './frames.ts';
import type { RelayStorage } from './storage.ts';

// Proof of an account (docs/relay-protocol.md#handshake-and-authentication):
// a signature over this connection's nonce, by a key the account is bound to.

/** What `hello` claimed and `auth` offered as proof. */
export interface AuthAttempt {
  readonly accountId: AccountId;
  readonly deviceId: number;
  /** base64 of the serialized identity public key. */
  readonly identityKey: string;
  /** base64 of the XEdDSA signature over authMessage(nonce, accountId, deviceId). */
  readonly signature: string;
}

const SERIALIZED_PUBLIC_KEY_BYTES = 33;
const SIGNATURE_BYTES = 64;

/** The account id an identity key hashes to (docs/message-format.md#account-ids). */
export function accountIdOf(serializedIdentityKey: Uint8Array): AccountId {
  return accountIdFromDigest(
    createHash('sha256').update(ACCOUNT_ID_DOMAIN).update(serializedIdentityKey).digest(),
  );
}

/**
 * True when the attempt proves the account: the signature verifies over this
 * connection's nonce (so a signature from another connection fails), and the
 * key is the one bound to the account, or, for an account seen for the first
 * time, hashes to its id (then it is bound).
 */
export async function verifyAuth(
  storage: RelayStorage,
  nonce: Uint8Array,
  attempt: AuthAttempt,
  now: number,
): Promise<boolean> {
  const keyBytes = decodeBase64(attempt.identityKey);
  const signature = decodeBase64(attempt.signature);
  if (keyBytes?.length !== SERIALIZED_PUBLIC_KEY_BYTES || signature?.length !== SIGNATURE_BYTES)
    return false;
  let key: PublicKey;
  try {
    key = PublicKey.deserialize(keyBytes);
  } catch {
    return false;
  }
  if (!key.verify(authMessage(nonce, attempt.accountId, attempt.deviceId), signature)) return false;
  const identityKey = key.serialize();
  const bound = await storage.boundIdentityKey(attempt.accountId);
  if (bound !== undefined) return sameBytes(bound, identityKey);
  if (accountIdOf(identityKey) !== attempt.accountId) return false;
  // Two first auths may race; the storage keeps whichever bound first.
  return sameBytes(await storage.bindIdentityKey(attempt.accountId, identityKey, now), identityKey);
}

function sameBytes(a: Uint8Array, b: Uint8Array): boolean {
  return a.length === b.length && timingSafeEqual(a, b);
}
