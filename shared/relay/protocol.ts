import { z } from 'zod';
import { PADDED_BASE64 } from '../protocol/encoding.ts';
import { accountIdSchema } from '../protocol/account-id.ts';
import { preKeyBundleSchema, publishedKeysSchema } from '../protocol/keys.ts';

// The Sotto relay wire protocol, version 1. docs/relay-protocol.md is the
// normative description; this file is its executable form, shared by the relay
// and the client. Every frame is one WebSocket text message holding one JSON object.

/** Protocol version; the WebSocket path is `/v1`. */
export const RELAY_PROTOCOL_VERSION = 1;

/** Limits every implementation enforces (docs/relay-protocol.md#limits). */
export const RELAY_LIMITS = {
  /** Largest frame (bytes of the WebSocket message). */
  maxFrameBytes: 256 * 1024,
  /** Largest envelope body, bytes before base64. */
  maxEnvelopeBytes: 160 * 1024,
  /** Envelopes in flight (pushed, not yet acked) per connection. */
  pushWindow: 200,
  /** Envelope ids per ack frame. */
  maxAckIds: 500,
  /** Envelopes per send.batch frame. */
  maxBatchEnvelopes: 100,
} as const;

/** Domain-separation prefix of the signed auth message. */
export const AUTH_CONTEXT = 'sotto-relay-auth/v1';

/** Stable relay error codes. */
export const RELAY_ERRORS = {
  RELAY_ERR_MALFORMED: 'the frame is not valid JSON or does not match any frame type',
  RELAY_ERR_UNKNOWN_TYPE: 'unknown frame type',
  RELAY_ERR_TOO_LARGE: 'the frame or envelope is larger than allowed',
  RELAY_ERR_UNSUPPORTED_VERSION: 'unsupported protocol version',
  RELAY_ERR_UNAUTHENTICATED: 'authenticate first',
  RELAY_ERR_AUTH_FAILED: 'the signature does not prove this account',
  RELAY_ERR_FORBIDDEN: 'not allowed for this account',
  RELAY_ERR_NO_KEYS: 'that account has published no keys here',
  RELAY_ERR_MAILBOX_FULL: "the recipient's mailbox is full",
  RELAY_ERR_RATE_LIMITED: 'too many frames; slow down',
  RELAY_ERR_TOO_MANY_CONNECTIONS: 'too many connections for this account',
  RELAY_ERR_INTERNAL: 'the relay failed to process the request',
} as const;

export type RelayErrorCode = keyof typeof RELAY_ERRORS;

const base64 = z.string().regex(PADDED_BASE64);
const requestId = z.number().int().nonnegative().max(Number.MAX_SAFE_INTEGER);
const deviceId = z.number().int().min(1).max(127);
const envelopeId = z.string().regex(/^[A-Za-z0-9_-]{8,64}$/);

/** A stored envelope as the relay delivers it. */
export const wireEnvelopeSchema = z.object({
  id: envelopeId,
  from: accountIdSchema,
  fromDevice: deviceId,
  /** libsignal CiphertextMessageType: 3 PreKey, 2 Whisper. */
  ctype: z.union([z.literal(2), z.literal(3)]),
  body: base64,
  receivedAt: z.number().int().nonnegative(),
});
export type WireEnvelope = z.infer<typeof wireEnvelopeSchema>;

/** One envelope a client hands to the relay (in `send` and `send.batch`). */
export const outgoingEnvelopeSchema = z.object({
  clientMessageId: z.uuid(),
  to: accountIdSchema,
  toDevice: deviceId,
  ctype: z.union([z.literal(2), z.literal(3)]),
  body: base64,
});
export type OutgoingWireEnvelope = z.infer<typeof outgoingEnvelopeSchema>;

const relayErrorCode = z.enum(Object.keys(RELAY_ERRORS) as [RelayErrorCode, ...RelayErrorCode[]]);

/** Frames a client sends. */
export const clientFrameSchema = z.discriminatedUnion('type', [
  z.object({
    type: z.literal('hello'),
    protocol: z.number().int(),
    accountId: accountIdSchema,
    deviceId,
  }),
  z.object({ type: z.literal('auth'), identityKey: base64, signature: base64 }),
  z.object({ type: z.literal('keys.publish'), id: requestId, keys: publishedKeysSchema }),
  z.object({
    type: z.literal('keys.fetch'),
    id: requestId,
    accountId: accountIdSchema,
    deviceId: deviceId.optional(),
  }),
  z.object({ type: z.literal('send'), id: requestId, ...outgoingEnvelopeSchema.shape }),
  z.object({
    type: z.literal('send.batch'),
    id: requestId,
    envelopes: z.array(outgoingEnvelopeSchema).min(1).max(RELAY_LIMITS.maxBatchEnvelopes),
  }),
  z.object({
    type: z.literal('ack'),
    id: requestId,
    envelopeIds: z.array(envelopeId).min(1).max(RELAY_LIMITS.maxAckIds),
  }),
  z.object({ type: z.literal('ping'), id: requestId }),
]);
export type ClientFrame = z.infer<typeof clientFrameSchema>;

/** Frames the relay sends. */
export const serverFrameSchema = z.discriminatedUnion('type', [
  z.object({
    type: z.literal('challenge'),
    protocol: z.number().int(),
    nonce: base64,
    serverTime: z.number().int(),
  }),
  z.object({
    type: z.literal('ready'),
    accountId: accountIdSchema,
    deviceId,
    queued: z.number().int().nonnegative(),
  }),
  z.object({ type: z.literal('ok'), id: requestId, envelopeId: envelopeId.optional() }),
  z.object({ type: z.literal('bundle'), id: requestId, bundle: preKeyBundleSchema }),
  z.object({ type: z.literal('envelopes'), envelopes: z.array(wireEnvelopeSchema).min(1) }),
  z.object({
    type: z.literal('keys.low'),
    preKeys: z.number().int().nonnegative(),
    kyberPreKeys: z.number().int().nonnegative(),
  }),
  z.object({ type: z.literal('pong'), id: requestId, serverTime: z.number().int() }),
  z.object({
    type: z.literal('sent'),
    id: requestId,
    results: z.array(z.union([z.object({ envelopeId }), z.object({ error: relayErrorCode })])),
  }),
  z.object({
    type: z.literal('error'),
    id: requestId.optional(),
    code: relayErrorCode,
    message: z.string(),
  }),
]);
export type ServerFrame = z.infer<typeof serverFrameSchema>;

/**
 * The bytes a device signs with its identity key to authenticate:
 * UTF-8 "sotto-relay-auth/v1" || 0x00 || nonce (32 bytes) || UTF-8 account id || 0x00 || device id (1 byte).
 */
export function authMessage(
  nonce: Uint8Array,
  accountId: string,
  device: number,
): Uint8Array<ArrayBuffer> {
  const context = new TextEncoder().encode(AUTH_CONTEXT);
  const account = new TextEncoder().encode(accountId);
  const out = new Uint8Array(context.length + 1 + nonce.length + account.length + 2);
  let at = 0;
  out.set(context, at);
  at += context.length + 1;
  out.set(nonce, at);
  at += nonce.length;
  out.set(account, at);
  at += account.length + 1;
  out[at] = device;
  return out;
}

/** One-time keys below this count make the relay send `keys.low` to the owner. */
export const LOW_KEY_THRESHOLD = 20;
