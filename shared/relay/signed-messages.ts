import { z } from 'zod';
import { accountIdSchema } from '../protocol/account-id.ts';
import { base64 } from './wire-fields.ts';

// What a device signs with its identity key for a relay: the login message
// (bound to one relay and one challenge) and a move notice (the old identity
// key vouching for the account that replaces it).

/** Domain-separation prefix of the signed login message. */
export const AUTH_CONTEXT = 'sotto-relay-auth/v2';

/**
 * A signed move notice (docs/message-format.md#identity-reset): the old
 * identity key vouches for the account that replaces it. The relay checks the
 * signature against the key bound to `from`.
 */
export const moveNoticeSchema = z.strictObject({
  from: accountIdSchema,
  to: accountIdSchema,
  /** The new account's identity key (base64 of libsignal's 33-byte serialization). */
  identityKey: base64.max(64),
  issuedAt: z.number().int().nonnegative(),
  /** XEdDSA signature by the old identity key over moveNoticeMessage(...). */
  signature: base64.max(128),
});
export type MoveNotice = z.infer<typeof moveNoticeSchema>;

const encoder = new TextEncoder();

function concat(parts: readonly Uint8Array[]): Uint8Array<ArrayBuffer> {
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let at = 0;
  for (const part of parts) {
    out.set(part, at);
    at += part.length;
  }
  return out;
}

/**
 * The bytes a device signs with its identity key to log in:
 * UTF-8 "sotto-relay-auth/v2" || 0x00 || UTF-8 relayId || 0x00 || nonce (32 bytes)
 * || UTF-8 account id || 0x00 || device id (1 byte).
 * The relay id makes a signature made for one relay worthless at every other.
 */
export function authMessage(
  relayId: string,
  nonce: Uint8Array,
  accountId: string,
  device: number,
): Uint8Array<ArrayBuffer> {
  const zero = Uint8Array.of(0);
  return concat([
    encoder.encode(AUTH_CONTEXT),
    zero,
    encoder.encode(relayId),
    zero,
    nonce,
    encoder.encode(accountId),
    zero,
    Uint8Array.of(device),
  ]);
}

/** Domain-separation prefix of a signed move notice. */
export const MOVE_CONTEXT = 'sotto-account-moved/v1';

/**
 * The bytes the old identity key signs in a move notice:
 * UTF-8 "sotto-account-moved/v1" || 0x00 || UTF-8 from || 0x00 || UTF-8 to || 0x00
 * || new identity key (33 bytes) || issuedAt (8 bytes, big-endian ms).
 */
export function moveNoticeMessage(
  from: string,
  to: string,
  identityKey: Uint8Array,
  issuedAt: number,
): Uint8Array<ArrayBuffer> {
  const zero = Uint8Array.of(0);
  const time = new Uint8Array(8);
  new DataView(time.buffer).setBigUint64(0, BigInt(issuedAt));
  return concat([
    encoder.encode(MOVE_CONTEXT),
    zero,
    encoder.encode(from),
    zero,
    encoder.encode(to),
    zero,
    identityKey,
    time,
  ]);
}
