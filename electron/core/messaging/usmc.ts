import {
  CiphertextMessageType,
  type SenderCertificate,
  UnidentifiedSenderMessageContent,
} from '@signalapp/libsignal-client';

// libsignal builds an UnidentifiedSenderMessageContent only from a live
// CiphertextMessage, which exists only at the moment of `signalEncrypt`; it
// cannot be rebuilt from the serialized Signal message the outbox keeps (R4).
// Sealing happens later, at send time, with a fresh certificate, so the
// content is written here in its protobuf form (libsignal's
// `UnidentifiedSenderMessage.Message`) and parsed back by libsignal:
//   1: type (varint: 1 PreKey, 2 Whisper)  2: sender certificate (bytes)
//   3: content (bytes)  4: content hint (varint, omitted when Default)
//   5: group id (bytes; sender-key messages only, type 7)
// tests/integration/core/usmc.test.ts pins the bytes against libsignal's own encoder.

const WIRE_VARINT = 0;
const WIRE_BYTES = 2;

function varint(value: number): number[] {
  const out: number[] = [];
  let rest = value;
  while (rest > 0x7f) {
    out.push((rest & 0x7f) | 0x80);
    rest = Math.floor(rest / 128);
  }
  out.push(rest);
  return out;
}

function protoType(ciphertextType: number): number {
  if (ciphertextType === (CiphertextMessageType.PreKey as number)) return 1;
  if (ciphertextType === (CiphertextMessageType.Whisper as number)) return 2;
  if (ciphertextType === (CiphertextMessageType.SenderKey as number)) return 7;
  throw new Error('only PreKey, Whisper and SenderKey messages are sealed');
}

/**
 * The sealed-sender content for a stored Signal message (`type`: libsignal's
 * CiphertextMessageType); a stored SenderKeyMessage also names its group.
 */
export function unidentifiedContent(
  ciphertextType: number,
  ciphertext: Uint8Array,
  certificate: SenderCertificate,
  contentHint: number,
  groupId?: Uint8Array,
): UnidentifiedSenderMessageContent {
  const cert = certificate.serialize();
  const parts: (number[] | Uint8Array)[] = [
    varint((1 << 3) | WIRE_VARINT),
    varint(protoType(ciphertextType)),
    varint((2 << 3) | WIRE_BYTES),
    varint(cert.length),
    cert,
    varint((3 << 3) | WIRE_BYTES),
    varint(ciphertext.length),
    ciphertext,
  ];
  if (contentHint !== 0) parts.push(varint((4 << 3) | WIRE_VARINT), varint(contentHint));
  if (groupId) parts.push(varint((5 << 3) | WIRE_BYTES), varint(groupId.length), groupId);
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let at = 0;
  for (const part of parts) {
    out.set(part, at);
    at += part.length;
  }
  return UnidentifiedSenderMessageContent.deserialize(out);
}
