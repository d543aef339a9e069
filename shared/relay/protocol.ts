import { z } from 'zod';
import { PADDED_BASE64 } from '../protocol/encoding.ts';
import { accountIdSchema } from '../protocol/account-id.ts';
import { preKeyBundleSchema, publishedKeysSchema } from '../protocol/keys.ts';
import { blobIdSchema } from '../protocol/attachment.ts';
import { uploadTokenSchema } from './blobs.ts';

// The Sotto relay wire protocol, version 2. docs/relay-protocol.md is the
// normative description; this file is its executable form, shared by the relay
// and the client. Every frame is one WebSocket text message holding one JSON object.
//
// Two kinds of connection share one endpoint (`/v2`):
// - an *account* connection: the device proves its identity key (a signature
//   over a challenge that names this relay) and may then read its own mailbox,
//   publish its keys and register its delivery token. A device opens one only
//   to its own relay.
// - an *anonymous* connection: no identity at all. It may submit sealed
//   envelopes and fetch prekey bundles, each authorized by the recipient's
//   delivery token. The relay never learns who sent an envelope.

/** Protocol version; the WebSocket path is `/v2`. */
export const RELAY_PROTOCOL_VERSION = 2;

/** Limits every implementation enforces (docs/relay-protocol.md#limits). */
export const RELAY_LIMITS = {
  /** Largest frame (bytes of the WebSocket message), both directions. */
  maxFrameBytes: 256 * 1024,
  /** Largest envelope body (a sealed-sender message), bytes before base64. */
  maxEnvelopeBytes: 96 * 1024,
  /** Envelopes in flight (pushed, not yet acked) per connection. */
  pushWindow: 200,
  /** Envelope ids per ack frame. */
  maxAckIds: 500,
  /** Envelopes per send.batch frame (the frame limit applies too: clients split). */
  maxBatchEnvelopes: 100,
  /**
   * Recipient accounts per send.multi frame: a group of 1,000 members is one
   * frame when its message is small (about 180 bytes of frame per
   * single-device recipient). The frame limit applies too: clients split a
   * larger send into frames, each its own sealed-sender v2 message for its
   * share of the recipients (docs/relay-protocol.md#multi-recipient-sends).
   */
  maxMultiRecipients: 1000,
  /** One-time keys of each kind per keys.publish frame (50 Kyber keys are ~110 KiB of JSON). */
  maxOneTimeKeysPerPublish: 50,
  /** One-time keys of each kind a relay keeps per device; a publish beyond it is refused. */
  maxStoredOneTimeKeys: 200,
} as const;

/** Domain-separation prefix of the signed login message. */
export const AUTH_CONTEXT = 'sotto-relay-auth/v2';

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

/** Stable relay error codes, with the fixed sentence the `error` frame carries. */
export const RELAY_ERRORS = {
  RELAY_ERR_MALFORMED: 'the frame is not valid JSON or does not match any frame type',
  RELAY_ERR_UNKNOWN_TYPE: 'unknown frame type',
  RELAY_ERR_TOO_LARGE: 'the envelope or blob is larger than allowed',
  RELAY_ERR_UNSUPPORTED_VERSION: 'this relay speaks protocol 2; upgrade Sotto',
  RELAY_ERR_UNAUTHENTICATED: 'not allowed on this connection',
  RELAY_ERR_AUTH_FAILED: 'the signature does not prove this account on this relay',
  RELAY_ERR_FORBIDDEN: 'not allowed for this account',
  RELAY_ERR_NO_KEYS: 'that account has published no keys here',
  RELAY_ERR_BAD_TOKEN: 'unknown recipient or wrong delivery token',
  RELAY_ERR_MAILBOX_FULL: "the recipient's mailbox is full",
  RELAY_ERR_OVER_BUDGET: 'over budget for this recipient or source; try again later',
  RELAY_ERR_STORAGE_FULL: 'the relay is out of storage; try again later',
  RELAY_ERR_TOO_MANY_KEYS: 'the relay already holds as many one-time keys as it keeps for a device',
  RELAY_ERR_ACCOUNT_MOVED: 'that account moved to a new identity key',
  RELAY_ERR_RATE_LIMITED: 'too many frames; slow down',
  RELAY_ERR_TOO_MANY_CONNECTIONS: 'too many connections',
  RELAY_ERR_BLOB_QUOTA: "this account's attachment storage on the relay is full; try again later",
  RELAY_ERR_INTERNAL: 'the relay failed to process the request',
} as const;

export type RelayErrorCode = keyof typeof RELAY_ERRORS;

const base64 = z.string().regex(PADDED_BASE64);
const nonEmptyBase64 = base64.min(4);
const requestId = z.number().int().nonnegative().max(Number.MAX_SAFE_INTEGER);
const deviceId = z.number().int().min(1).max(127);
const envelopeId = z.string().regex(/^[A-Za-z0-9_-]{8,64}$/);
/** base64 of DELIVERY_TOKEN_BYTES bytes. */
export const deliveryTokenSchema = z
  .string()
  .regex(/^[A-Za-z0-9+/]{22}==$/, 'a delivery token is 16 bytes of base64');

/**
 * A stored envelope as the relay delivers it: no sender, no type. The body is
 * a sealed-sender message (docs/message-format.md#sealed-envelopes);
 * `serverTime` is when the relay committed it, the time sender certificates
 * are checked against.
 */
export const wireEnvelopeSchema = z.strictObject({
  id: envelopeId,
  body: nonEmptyBase64,
  serverTime: z.number().int().nonnegative(),
});
export type WireEnvelope = z.infer<typeof wireEnvelopeSchema>;

/** One sealed envelope a client submits on an anonymous connection (in `send` and `send.batch`). */
export const sealedSubmissionSchema = z.strictObject({
  /** Random per envelope (UUID); resubmitting the same one to the same mailbox is idempotent. */
  clientMessageId: z.uuid(),
  to: accountIdSchema,
  toDevice: deviceId,
  token: deliveryTokenSchema,
  body: nonEmptyBase64,
});
export type SealedSubmission = z.infer<typeof sealedSubmissionSchema>;

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

/** One recipient account of a send.multi frame and the delivery token that opens its mailboxes. */
export const multiRecipientSchema = z.strictObject({
  accountId: accountIdSchema,
  token: deliveryTokenSchema,
});
export type MultiRecipient = z.infer<typeof multiRecipientSchema>;

/**
 * The members of a send.multi frame: one sealed-sender v2 sent message
 * (`sealedSenderMultiRecipientEncrypt` output) naming exactly `recipients`.
 * A recipient listed twice makes the frame malformed.
 */
const multiSendMembers = {
  /** Random per send (UUID); idempotent per mailbox, like a send's. */
  clientMessageId: z.uuid(),
  body: nonEmptyBase64,
  recipients: z
    .array(multiRecipientSchema)
    .min(1)
    .max(RELAY_LIMITS.maxMultiRecipients)
    .refine(
      (recipients) => new Set(recipients.map((r) => r.accountId)).size === recipients.length,
      'a recipient is listed twice',
    ),
};

const relayErrorCode = z.enum(Object.keys(RELAY_ERRORS) as [RelayErrorCode, ...RelayErrorCode[]]);

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

/** One-time keys below this count make the relay send `keys.low` to the owner. */
export const LOW_KEY_THRESHOLD = 20;
