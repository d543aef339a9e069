import { z } from 'zod';
import { accountIdSchema } from '../shared/protocol/account-id.ts';
import { preKeyBundleSchema, type PreKeyBundleData } from '../shared/protocol/keys.ts';
import { relayIdSchema } from '../shared/relay/protocol.ts';
import type { AccountRecord, StoredEnvelope } from './storage.ts';

// Rows read back from relay.db are parsed like any other input: the file on
// disk is a boundary, and a damaged or hand-edited row must fail loudly here
// rather than reach a client as a malformed frame.

const bytes = z.instanceof(Uint8Array);

export const identityKeyRowSchema = z.object({ identity_key: bytes });
export const envelopeIdRowSchema = z.object({ id: z.string() });
export const countsRowSchema = z.object({ n: z.number().int().nonnegative() });
export const usageRowSchema = z.object({ envelopes: z.number().int(), bytes: z.number().int() });
export const relayIdRowSchema = z.object({ value: relayIdSchema });
export const tokenRowSchema = z.object({
  token_hash: bytes.nullable(),
  moved_at: z.number().int().nullable(),
});
export const keyIdRowSchema = z.object({ key_id: z.number().int() });
export const movedRowSchema = z.object({ moved_at: z.number().int().nullable() });
export const deviceRegistrationRowSchema = z.object({
  account_id: accountIdSchema,
  device_id: z.number().int(),
  registration_id: z.number().int(),
});

const accountRowSchema = z.object({
  identity_key: bytes,
  token_hash: bytes.nullable(),
  moved_at: z.number().int().nullable(),
});

const envelopeRowSchema = z.object({
  seq: z.number().int(),
  id: z.string(),
  body: bytes,
  received_at: z.number().int(),
});

const deviceKeysRowSchema = z.object({
  account_id: z.string(),
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

/** An account record from an `accounts` row. */
export function accountFromRow(row: unknown): AccountRecord {
  const parsed = accountRowSchema.parse(row);
  return {
    identityKey: parsed.identity_key,
    tokenHash: parsed.token_hash ?? undefined,
    moved: parsed.moved_at !== null,
  };
}

/** A stored envelope from an `envelopes` row. */
export function envelopeFromRow(row: unknown): StoredEnvelope {
  const parsed = envelopeRowSchema.parse(row);
  return { seq: parsed.seq, id: parsed.id, body: parsed.body, receivedAt: parsed.received_at };
}

/** The ids of a `device_keys` row's signed and last-resort keys. */
export function replaceableKeyIds(row: unknown): { signed: number; lastResort: number } {
  const keys = deviceKeysRowSchema.parse(row);
  return { signed: keys.signed_pre_key_id, lastResort: keys.last_resort_kyber_id };
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
