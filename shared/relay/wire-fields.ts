import { z } from 'zod';
import { PADDED_BASE64 } from '../protocol/encoding.ts';

// The members the relay's frames share: ids, tokens and base64 fields. The
// relay id and the delivery token are part of the protocol's API (invites and
// the core use them); the rest only build frames.

/** A delivery token: 16 random bytes, base64 on the wire (docs/relay-protocol.md#delivery-tokens). */
export const DELIVERY_TOKEN_BYTES = 16;

/**
 * A relay's identifier: 16 random bytes chosen when its data directory is
 * created, base64url without padding (22 characters). Named in every
 * challenge, signed into every login, pinned in invites.
 */
export const relayIdSchema = z
  .string()
  .regex(/^[A-Za-z0-9_-]{22}$/, 'a relay id is 22 base64url characters');
export type RelayId = z.infer<typeof relayIdSchema>;

/** Padded base64 of any length. */
export const base64 = z.string().regex(PADDED_BASE64);
/** Padded base64 of at least one byte. */
export const nonEmptyBase64 = base64.min(4);
/** The id a client gives a request; the answer carries it back. */
export const requestId = z.number().int().nonnegative().max(Number.MAX_SAFE_INTEGER);
/** A device of an account (1 to 127). */
export const deviceId = z.number().int().min(1).max(127);
/** An envelope id the relay assigns. */
export const envelopeId = z.string().regex(/^[A-Za-z0-9_-]{8,64}$/);
/** base64 of DELIVERY_TOKEN_BYTES bytes. */
export const deliveryTokenSchema = z
  .string()
  .regex(/^[A-Za-z0-9+/]{22}==$/, 'a delivery token is 16 bytes of base64');
