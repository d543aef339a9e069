import { z } from 'zod';
import { accountIdSchema } from '../protocol/account-id.ts';
import { blobIdSchema } from '../protocol/attachment.ts';
import { preKeyBundleSchema } from '../protocol/keys.ts';
import { uploadTokenSchema } from './blobs.ts';
import { wireEnvelopeSchema } from './envelopes.ts';
import { RELAY_LIMITS } from './protocol-limits.ts';
import { relayErrorCodeSchema as relayErrorCode } from './relay-errors.ts';
import { base64, deviceId, envelopeId, relayIdSchema, requestId } from './wire-fields.ts';

// Frames a relay sends to a client, one JSON object per WebSocket text message.

/** Frames the relay sends. */
export const serverFrameSchema = z.discriminatedUnion('type', [
  z.strictObject({
    type: z.literal('challenge'),
    protocol: z.number().int(),
    relayId: relayIdSchema,
    nonce: base64,
    serverTime: z.number().int(),
  }),
  z.strictObject({
    type: z.literal('ready'),
    mode: z.enum(['account', 'anonymous']),
    accountId: accountIdSchema.optional(),
    deviceId: deviceId.optional(),
    queued: z.number().int().nonnegative().optional(),
  }),
  z.strictObject({ type: z.literal('ok'), id: requestId, envelopeId: envelopeId.optional() }),
  z.strictObject({ type: z.literal('bundle'), id: requestId, bundle: preKeyBundleSchema }),
  z.strictObject({
    type: z.literal('keys.status'),
    id: requestId,
    /** One-time key ids the relay still holds for this device (not yet handed out). */
    preKeyIds: z
      .array(z.number().int().min(1).max(0xffffff))
      .max(RELAY_LIMITS.maxStoredOneTimeKeys),
    kyberPreKeyIds: z
      .array(z.number().int().min(1).max(0xffffff))
      .max(RELAY_LIMITS.maxStoredOneTimeKeys),
    signedPreKeyId: z.number().int().min(1).max(0xffffff).nullable(),
    lastResortKyberPreKeyId: z.number().int().min(1).max(0xffffff).nullable(),
  }),
  z.strictObject({ type: z.literal('envelopes'), envelopes: z.array(wireEnvelopeSchema).min(1) }),
  z.strictObject({
    type: z.literal('keys.low'),
    preKeys: z.number().int().nonnegative(),
    kyberPreKeys: z.number().int().nonnegative(),
  }),
  z.strictObject({ type: z.literal('pong'), id: requestId, serverTime: z.number().int() }),
  /** Answer to blob.create: where to upload (HTTP, docs/relay-protocol.md#blobs) and the upload's bearer secret. */
  z.strictObject({
    type: z.literal('blob.created'),
    id: requestId,
    blobId: blobIdSchema,
    uploadToken: uploadTokenSchema,
    /** When an unfinished upload and, once finished, the blob are deleted (ms since the epoch). */
    expiresAt: z.number().int().nonnegative(),
  }),
  z.strictObject({
    type: z.literal('sent'),
    id: requestId,
    results: z.array(
      z.union([z.strictObject({ envelopeId }), z.strictObject({ error: relayErrorCode })]),
    ),
  }),
  z.strictObject({
    type: z.literal('sent.multi'),
    id: requestId,
    /** One per recipient of the frame, in its order: the envelope of each listed device, or the refusal. */
    results: z
      .array(
        z.union([
          z.strictObject({ envelopeIds: z.array(envelopeId).min(1) }),
          z.strictObject({ error: relayErrorCode }),
        ]),
      )
      .max(RELAY_LIMITS.maxMultiRecipients),
  }),
  z.strictObject({
    type: z.literal('error'),
    id: requestId.optional(),
    code: relayErrorCode,
    message: z.string(),
    /** For RELAY_ERR_OVER_BUDGET and RELAY_ERR_RATE_LIMITED: when trying again can succeed. */
    retryAfterMs: z.number().int().nonnegative().optional(),
  }),
]);
export type ServerFrame = z.infer<typeof serverFrameSchema>;
