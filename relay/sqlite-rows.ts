import { z } from 'zod';
import { accountIdSchema } from '../shared/protocol/account-id.ts';
import { preKeyBundleSchema, type PreKeyBundleData } from '../shared/protocol/keys.ts';
import type { StoredEnvelope } from './storage.ts';

// Rows read back from relay.db are parsed like any other input: the file on
// disk is a boundary, and a damaged or hand-edited row must fail loudly here
// rather than reach a client as a malformed frame.

const bytes = z.instanceof(Uint8Array);

export const identityKeyRowSchema = z.object({ identity_key: bytes });
export const submissionRowSchema = z.object({ envelope_id: z.string() });
export const countsRowSchema = z.object({ n: z.number().int().nonnegative() });

const envelopeRowSchema = z.object({
  id: z.string(),
  sender: accountIdSchema,
  sender_device: z.number().int(),
  ctype: z.union([z.literal(2), z.literal(3)]),
  body: bytes,
  received_at: z.number().int(),
});

const deviceKeysRowSchema = z.object({
  account_id: accountIdSchema,
  device_id: z.number().int(),
  registration_id: z.number().int(),
  identity_key: z.string(),
  signed_pre_key_id: z.number().int(),
  signed_pre_key: z.string(),
  signed_pre_key_signature: z.string(),
  last_resort_kyber_id: z.number().int(),
  last_resort_kyber_key: z.string(),
  last_resort_kyber_signature: z.string(),
});

const preKeyRowSchema = z.object({ key_id: z.number().int(), public_key: z.string() });
const kyberRowSchema = preKeyRowSchema.extend({ signature: z.string() });

/** A stored envelope from an `envelopes` row. */
export function envelopeFromRow(row: unknown): StoredEnvelope {
  const parsed = envelopeRowSchema.parse(row);
  return {
    id: parsed.id,
    from: parsed.sender,
    fromDevice: parsed.sender_device,
    ctype: parsed.ctype,
    body: parsed.body,
    receivedAt: parsed.received_at,
  };
}

/** The bundle for a `device_keys` row and the one-time keys just taken (undefined when none were left). */
export function bundleFromRows(
  device: unknown,
  preKey: unknown,
  kyberPreKey: unknown,
): PreKeyBundleData {
  const keys = deviceKeysRowSchema.parse(device);
  const ec = preKey === undefined ? null : preKeyRowSchema.parse(preKey);
  const kyber = kyberPreKey === undefined ? undefined : kyberRowSchema.parse(kyberPreKey);
  return preKeyBundleSchema.parse({
    accountId: keys.account_id,
    deviceId: keys.device_id,
    registrationId: keys.registration_id,
    identityKey: keys.identity_key,
    signedPreKey: {
      id: keys.signed_pre_key_id,
      publicKey: keys.signed_pre_key,
      signature: keys.signed_pre_key_signature,
    },
    kyberPreKey: kyber
      ? { id: kyber.key_id, publicKey: kyber.public_key, signature: kyber.signature }
      : {
          id: keys.last_resort_kyber_id,
          publicKey: keys.last_resort_kyber_key,
          signature: keys.last_resort_kyber_signature,
        },
    preKey: ec ? { id: ec.key_id, publicKey: ec.public_key } : null,
  });
}
