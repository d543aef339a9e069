import type WebSocket from 'ws';
import {
  type ClientFrame,
  clientFrameSchema,
  RELAY_ERRORS,
  RELAY_LIMITS,
  RELAY_PROTOCOL_VERSION,
  type RelayErrorCode,
  type ServerFrame,
  type WireEnvelope,
} from '../shared/relay/protocol.ts';
import type { StoredEnvelope } from './storage.ts';

// Turning WebSocket messages into checked frames and back. Nothing here looks
// inside an envelope body: it is decoded from base64 and re-encoded, no more.

/** WebSocket close codes the relay uses (docs/relay-protocol.md#errors). */
export const CLOSE_CODES = {
  goingAway: 1001,
  policy: 1008,
  internal: 1011,
  authFailed: 4001,
  authTimeout: 4002,
} as const;

/** Errors after which the relay closes the connection, with the close code the spec gives. */
const CLOSING_ERRORS: Partial<Record<RelayErrorCode, number>> = {
  RELAY_ERR_MALFORMED: CLOSE_CODES.policy,
  RELAY_ERR_UNKNOWN_TYPE: CLOSE_CODES.policy,
  RELAY_ERR_UNSUPPORTED_VERSION: CLOSE_CODES.policy,
  RELAY_ERR_AUTH_FAILED: CLOSE_CODES.authFailed,
  RELAY_ERR_TOO_MANY_CONNECTIONS: CLOSE_CODES.policy,
};

/** The close code that follows an error frame, or undefined when the connection stays open. */
export function closeCodeAfter(frame: ServerFrame): number | undefined {
  return frame.type === 'error' ? CLOSING_ERRORS[frame.code] : undefined;
}

/** Answers that mean "you should not have asked": they spend the connection's refusal budget. */
const REFUSALS: ReadonlySet<string> = new Set([
  'RELAY_ERR_BAD_TOKEN',
  'RELAY_ERR_OVER_BUDGET',
  'RELAY_ERR_NO_KEYS',
  'RELAY_ERR_ACCOUNT_MOVED',
  'RELAY_ERR_TOO_LARGE',
  'RELAY_ERR_MAILBOX_FULL',
  'RELAY_ERR_FORBIDDEN',
  'RELAY_ERR_UNAUTHENTICATED',
  'RELAY_ERR_TOO_MANY_KEYS',
  'RELAY_ERR_BLOB_QUOTA',
]);

/** How many refusals an answer carries (a send.batch or send.multi can carry many). */
export function refusalsIn(frame: ServerFrame): number {
  if (frame.type === 'error') return REFUSALS.has(frame.code) ? 1 : 0;
  if (frame.type === 'sent' || frame.type === 'sent.multi')
    return frame.results.filter((r) => 'error' in r && REFUSALS.has(r.error)).length;
  return 0;
}

const CLIENT_FRAME_TYPES: ReadonlySet<string> = new Set(
  clientFrameSchema.options.map((option) => option.shape.type.value),
);

/** A decoded incoming message: a valid frame, or the error code that refuses it (with the request id if one was readable). */
export type Incoming =
  | { readonly ok: true; readonly frame: ClientFrame }
  | {
      readonly ok: false;
      readonly code: IncomingRefusal;
      readonly id?: number;
    };

type IncomingRefusal =
  'RELAY_ERR_MALFORMED' | 'RELAY_ERR_UNKNOWN_TYPE' | 'RELAY_ERR_UNSUPPORTED_VERSION';

/** Parses one WebSocket message with the protocol's schema; binary messages are malformed by definition. */
export function decodeClientFrame(data: WebSocket.RawData, isBinary: boolean): Incoming {
  if (isBinary) return { ok: false, code: 'RELAY_ERR_MALFORMED' };
  let json: unknown;
  try {
    json = JSON.parse(rawText(data));
  } catch {
    return { ok: false, code: 'RELAY_ERR_MALFORMED' };
  }
  if (typeof json !== 'object' || json === null || Array.isArray(json))
    return { ok: false, code: 'RELAY_ERR_MALFORMED' };
  const fields = json as Record<string, unknown>;
  const id =
    typeof fields['id'] === 'number' && Number.isSafeInteger(fields['id']) && fields['id'] >= 0
      ? fields['id']
      : undefined;
  const refuse = (code: IncomingRefusal): Incoming => ({
    ok: false,
    code,
    ...(id === undefined ? {} : { id }),
  });
  if (typeof fields['type'] !== 'string') return refuse('RELAY_ERR_MALFORMED');
  if (!CLIENT_FRAME_TYPES.has(fields['type'])) return refuse('RELAY_ERR_UNKNOWN_TYPE');
  // Before the schema: another version's hello has other members, and its
  // client must hear "upgrade", not "malformed".
  if (fields['type'] === 'hello' && fields['protocol'] !== RELAY_PROTOCOL_VERSION)
    return refuse('RELAY_ERR_UNSUPPORTED_VERSION');
  const parsed = clientFrameSchema.safeParse(json);
  return parsed.success ? { ok: true, frame: parsed.data } : refuse('RELAY_ERR_MALFORMED');
}

/** The frame's request id, for frames that are requests. */
export function requestIdOf(frame: ClientFrame): number | undefined {
  return 'id' in frame ? frame.id : undefined;
}

/** An `error` frame with the code's fixed sentence. */
export function errorFrame(code: RelayErrorCode, id?: number): ServerFrame {
  return { type: 'error', ...(id === undefined ? {} : { id }), code, message: RELAY_ERRORS[code] };
}

/**
 * Decodes a base64 field strictly (padded, RFC 4648 §4). The schema's pattern
 * already excludes stray characters; the length check rejects unpadded text
 * that lenient decoders would accept.
 */
export function decodeBase64(text: string): Uint8Array<ArrayBuffer> | undefined {
  if (text.length % 4 !== 0 || !/^[A-Za-z0-9+/]*={0,2}$/.test(text)) return undefined;
  return new Uint8Array(Buffer.from(text, 'base64'));
}

/** Standard padded base64. */
export function encodeBase64(bytes: Uint8Array): string {
  return Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString('base64');
}

/**
 * `envelopes` frames (JSON text) carrying `envelopes` in order, each at most
 * the frame limit: clients cap incoming messages at 256 KiB too, and one
 * 96 KiB body (128 KiB of base64) always fits alone.
 */
export function envelopeFrames(envelopes: readonly StoredEnvelope[]): string[] {
  const head = '{"type":"envelopes","envelopes":[';
  const tail = ']}';
  const frames: string[] = [];
  let batch: string[] = [];
  let size = head.length + tail.length;
  for (const envelope of envelopes) {
    const wire: WireEnvelope = {
      id: envelope.id,
      body: encodeBase64(envelope.body),
      serverTime: envelope.receivedAt,
    };
    const json = JSON.stringify(wire); // ASCII only, so length is the byte count
    if (batch.length > 0 && size + 1 + json.length > RELAY_LIMITS.maxFrameBytes) {
      frames.push(head + batch.join(',') + tail);
      batch = [];
      size = head.length + tail.length;
    }
    batch.push(json);
    size += json.length + 1;
  }
  if (batch.length > 0) frames.push(head + batch.join(',') + tail);
  return frames;
}

function rawText(data: WebSocket.RawData): string {
  if (Array.isArray(data)) return Buffer.concat(data).toString('utf8');
  if (data instanceof ArrayBuffer) return Buffer.from(data).toString('utf8');
  return data.toString('utf8');
}
