import { z } from 'zod';
import { accountIdSchema } from '../protocol/account-id.ts';
import { publishedKeysSchema } from '../protocol/keys.ts';
import { multiSendMembers, sealedSubmissionSchema } from './envelopes.ts';
import { RELAY_LIMITS } from './protocol-limits.ts';
import { moveNoticeSchema } from './signed-messages.ts';
import { base64, deliveryTokenSchema, deviceId, envelopeId, requestId } from './wire-fields.ts';

// Frames a client sends to a relay, one JSON object per WebSocket text message.

/** Frames a client sends. Which connection kind may send which is in docs/relay-protocol.md. */
export const clientFrameSchema = z.discriminatedUnion('type', [
  // Handshake (both kinds).
  z.strictObject({
    type: z.literal('hello'),
    protocol: z.number().int(),
    /** 'account': an identity login follows; 'anonymous': none ever will. */
    mode: z.enum(['account', 'anonymous']),
    accountId: accountIdSchema.optional(),
    deviceId: deviceId.optional(),
  }),
  z.strictObject({
    type: z.literal('auth'),
    identityKey: base64.max(64),
    signature: base64.max(128),
  }),
  // Account connection.
  z.strictObject({ type: z.literal('keys.publish'), id: requestId, keys: publishedKeysSchema }),
  z.strictObject({ type: z.literal('keys.status'), id: requestId }),
  z.strictObject({ type: z.literal('token.set'), id: requestId, token: deliveryTokenSchema }),
  z.strictObject({ type: z.literal('account.move'), id: requestId, notice: moveNoticeSchema }),
  /** Reserves an upload of exactly `length` bytes (docs/relay-protocol.md#blobs); the relay's cap and the account's quota apply. */
  z.strictObject({
    type: z.literal('blob.create'),
    id: requestId,
    length: z.number().int().min(1).max(Number.MAX_SAFE_INTEGER),
  }),
  z.strictObject({
    type: z.literal('ack'),
    id: requestId,
    envelopeIds: z.array(envelopeId).min(1).max(RELAY_LIMITS.maxAckIds),
  }),
  // Anonymous connection.
  z.strictObject({
    type: z.literal('keys.fetch'),
    id: requestId,
    accountId: accountIdSchema,
    deviceId,
    token: deliveryTokenSchema,
  }),
  z.strictObject({ type: z.literal('send'), id: requestId, envelope: sealedSubmissionSchema }),
  z.strictObject({
    type: z.literal('send.batch'),
    id: requestId,
    envelopes: z.array(sealedSubmissionSchema).min(1).max(RELAY_LIMITS.maxBatchEnvelopes),
  }),
  z.strictObject({ type: z.literal('send.multi'), id: requestId, ...multiSendMembers }),
  // Both.
  z.strictObject({ type: z.literal('ping'), id: requestId }),
]);
export type ClientFrame = z.infer<typeof clientFrameSchema>;
