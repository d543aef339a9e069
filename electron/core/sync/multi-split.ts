import SealedSenderMultiRecipientMessage from '@signalapp/libsignal-client/dist/SealedSenderMultiRecipientMessage.js';
import { type AccountId, accountIdSchema } from '../../../shared/protocol/account-id.ts';

// A sealed-sender v2 "sent message" for a subset of its recipients, so that a
// group send too large for one relay frame goes out as several, each a valid
// message for its share (docs/relay-protocol.md#multi-recipient-sends).
//
// Each recipient's entry (C_i, AT_i) depends only on the ephemeral key, the
// sender's and that recipient's identity, never on the other recipients, so
// keeping some entries with the shared ephemeral key and ciphertext is the
// message `sealedSenderMultiRecipientEncrypt` would have made for them alone
// (with the same randomness). Layout (libsignal's sealed_sender.rs, 0x23 form):
//
//   0x23 | varint(entries) | per entry: ServiceId (0x00 + 16 bytes for an ACI)
//   | devices (device id u8, u16 big-endian: has-more bit << 15 | 14-bit
//   registration id) | C_i (32) | AT_i (16) | shared: e_pub (32) || ciphertext

const SENT_MESSAGE_VERSION = 0x23;
const ACI_KIND = 0x00;
/** A received copy is 0x22 || C_i || AT_i || shared bytes. */
const KEY_MATERIAL = { from: 1, to: 1 + 32 + 16 } as const;

/** One recipient account of a parsed sent message. */
export interface SplitRecipient {
  readonly accountId: AccountId;
  readonly devices: readonly { readonly deviceId: number; readonly registrationId: number }[];
  /** C_i || AT_i. */
  readonly keyMaterial: Uint8Array;
}

/** A sent message taken apart: its recipient entries and the bytes all of them share. */
export interface SplittableMessage {
  readonly recipients: ReadonlyMap<string, SplitRecipient>;
  readonly shared: Uint8Array;
}

/** Parses a sent message with libsignal; undefined when it does not parse or names a non-account (a PNI). */
export function splittable(body: Uint8Array): SplittableMessage | undefined {
  let message: SealedSenderMultiRecipientMessage;
  try {
    message = new SealedSenderMultiRecipientMessage(Uint8Array.from(body));
  } catch {
    return undefined;
  }
  const recipients = new Map<string, SplitRecipient>();
  let shared: Uint8Array = new Uint8Array();
  for (const [serviceId, recipient] of Object.entries(message.recipientsByServiceIdString())) {
    const accountId = accountIdSchema.safeParse(serviceId);
    if (!accountId.success) return undefined;
    const copy = message.messageForRecipient(recipient);
    shared = copy.subarray(KEY_MATERIAL.to);
    recipients.set(serviceId, {
      accountId: accountId.data,
      devices: recipient.deviceIds.map((deviceId, i) => ({
        deviceId,
        registrationId: recipient.registrationIds[i] ?? 0,
      })),
      keyMaterial: copy.subarray(KEY_MATERIAL.from, KEY_MATERIAL.to),
    });
  }
  return { recipients, shared };
}

function varint(value: number): number[] {
  const out: number[] = [];
  let rest = value;
  while (rest >= 0x80) {
    out.push((rest & 0x7f) | 0x80);
    rest >>>= 7;
  }
  out.push(rest);
  return out;
}

/** Bytes one recipient adds to a sent message. */
export function entryBytes(recipient: SplitRecipient): number {
  return 17 + 3 * recipient.devices.length + recipient.keyMaterial.length;
}

/** Bytes of a sent message for `count` recipients whose entries take `entries` bytes. */
export function sentMessageBytes(count: number, entries: number, shared: number): number {
  return 1 + varint(count).length + entries + shared;
}

function uuidBytes(accountId: string): number[] {
  const hex = accountId.replaceAll('-', '');
  return Array.from({ length: 16 }, (_, i) => parseInt(hex.slice(i * 2, i * 2 + 2), 16));
}

/** The sent message for exactly `recipients` (entries of the same parsed message). */
export function sentMessageFor(
  recipients: readonly SplitRecipient[],
  shared: Uint8Array,
): Uint8Array {
  const entries = recipients.reduce((n, r) => n + entryBytes(r), 0);
  const out = new Uint8Array(sentMessageBytes(recipients.length, entries, shared.length));
  let at = 0;
  const put = (bytes: ArrayLike<number>) => {
    out.set(bytes, at);
    at += bytes.length;
  };
  put([SENT_MESSAGE_VERSION, ...varint(recipients.length)]);
  for (const recipient of recipients) {
    put([ACI_KIND, ...uuidBytes(recipient.accountId)]);
    for (const [i, device] of recipient.devices.entries()) {
      const more = i < recipient.devices.length - 1 ? 0x8000 : 0;
      const packed = more | (device.registrationId & 0x3fff);
      put([device.deviceId, packed >> 8, packed & 0xff]);
    }
    put(recipient.keyMaterial);
  }
  put(shared);
  return out;
}
