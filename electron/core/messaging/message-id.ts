import { randomBytes } from 'node:crypto';

/**
 * A new message id: a UUIDv7 (RFC 9562): 48-bit Unix time in ms, then random
 * bits. Time-ordered ids keep the unique index on messages (uuid,
 * sender_account) append-mostly, which is what keeps inserts fast in a
 * history of millions of messages.
 */
export function newMessageId(now = Date.now()): string {
  const bytes = randomBytes(16);
  bytes.writeUIntBE(now, 0, 6);
  bytes[6] = (bytes[6]! & 0x0f) | 0x70; // version 7
  bytes[8] = (bytes[8]! & 0x3f) | 0x80; // variant 10
  const hex = bytes.toString('hex');
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20)}`;
}
