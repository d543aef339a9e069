import { createHash, timingSafeEqual } from 'node:crypto';
import { PublicKey } from '@signalapp/libsignal-client';
import {
  ACCOUNT_ID_DOMAIN,
  accountIdFromDigest,
  type AccountId,
} from '../shared/protocol/account-id.ts';
import { authMessage, moveNoticeMessage, type MoveNotice } from '../shared/relay/protocol.ts';
import { decodeBase64 } from './frames.ts';
import type { RelayStorage } from './storage.ts';

// Proof of an account (docs/relay-protocol.md#handshake): a signature over
// this relay's id and this connection's nonce, by the key the account id is
// derived from. And the one other signature the relay checks: a move notice.

/** What `hello` claimed and `auth` offered as proof. */
export interface AuthAttempt {
  readonly accountId: AccountId;
  readonly deviceId: number;
  /** base64 of the serialized identity public key. */
  readonly identityKey: string;
  /** base64 of the XEdDSA signature over authMessage(relayId, nonce, accountId, deviceId). */
  readonly signature: string;
}

/** The outcome of a login: the bound key, or why not. */
export type AuthResult =
  | { readonly kind: 'ok'; readonly identityKey: Uint8Array }
  | { readonly kind: 'failed' }
  | { readonly kind: 'moved' };

const SERIALIZED_PUBLIC_KEY_BYTES = 33;
const SIGNATURE_BYTES = 64;

/** The account id an identity key hashes to (docs/message-format.md#account-ids). */
export function accountIdOf(serializedIdentityKey: Uint8Array): AccountId {
  return accountIdFromDigest(
    createHash('sha256').update(ACCOUNT_ID_DOMAIN).update(serializedIdentityKey).digest(),
  );
}

/** SHA-256 of a delivery token: all the relay keeps of it. */
export function tokenHash(token: Uint8Array): Uint8Array {
  return createHash('sha256').update(token).digest();
}

/** Constant-time equality of two byte strings. */
export function sameBytes(a: Uint8Array, b: Uint8Array): boolean {
  return a.length === b.length && timingSafeEqual(a, b);
}

/** The public key in base64 `text`, or undefined if it is not one. */
function publicKeyOf(text: string): PublicKey | undefined {
  const bytes = decodeBase64(text);
  if (bytes?.length !== SERIALIZED_PUBLIC_KEY_BYTES) return undefined;
  try {
    return PublicKey.deserialize(bytes);
  } catch {
    return undefined;
  }
}

/**
 * Checks a login: the signature verifies over this relay's id and this
 * connection's nonce (so one made for another relay or connection fails), the
 * key derives the account id, and the account has not moved. The first
 * successful login binds the id to its key.
 */
export async function verifyAuth(
  storage: RelayStorage,
  nonce: Uint8Array,
  attempt: AuthAttempt,
  now: number,
): Promise<AuthResult> {
  const key = publicKeyOf(attempt.identityKey);
  const signature = decodeBase64(attempt.signature);
  if (key === undefined || signature?.length !== SIGNATURE_BYTES) return { kind: 'failed' };
  const message = authMessage(storage.relayId, nonce, attempt.accountId, attempt.deviceId);
  if (!key.verify(message, signature)) return { kind: 'failed' };
  const identityKey = key.serialize();
  if (accountIdOf(identityKey) !== attempt.accountId) return { kind: 'failed' };
  const known = await storage.account(attempt.accountId);
  if (known?.moved) return { kind: 'moved' };
  // Two first logins may race; the storage keeps whichever bound first (both derive the id anyway).
  const bound = known?.identityKey ?? (await storage.bindIdentityKey(attempt.accountId, identityKey, now));
  return sameBytes(bound, identityKey) ? { kind: 'ok', identityKey } : { kind: 'failed' };
}

/**
 * True when a move notice is signed by the key bound to `notice.from` and
 * names `to` with `toKey` (the logged-in account and its key).
 */
export function verifyMoveNotice(
  notice: MoveNotice,
  fromKey: Uint8Array,
  to: AccountId,
  toKey: Uint8Array,
): boolean {
  const signature = decodeBase64(notice.signature);
  const newKey = decodeBase64(notice.identityKey);
  if (notice.to !== to || newKey === undefined || !sameBytes(newKey, toKey)) return false;
  if (signature?.length !== SIGNATURE_BYTES || notice.from === notice.to) return false;
  let oldKey: PublicKey;
  try {
    oldKey = PublicKey.deserialize(Uint8Array.from(fromKey));
  } catch {
    return false;
  }
  return oldKey.verify(moveNoticeMessage(notice.from, notice.to, newKey, notice.issuedAt), signature);
}
