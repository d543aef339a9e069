import SealedSenderMultiRecipientMessage from '@signalapp/libsignal-client/dist/SealedSenderMultiRecipientMessage.js';
import type { AccountId } from '../shared/protocol/account-id.ts';
import { type ClientFrame, RELAY_LIMITS, type ServerFrame } from '../shared/relay/protocol.ts';
import {
  overBudget,
  refusalFrame,
  tokenThenBudget,
  wake,
  type AnonymousContext,
  type Refusal,
} from './anonymous-context.ts';
import { decodeBase64, errorFrame } from './frames.ts';
import { arrivalOf } from './delivery.ts';
import type { Arrival, DeviceRegistration, Mailbox, NewEnvelope } from './storage.ts';

// send.multi (docs/relay-protocol.md#multi-recipient-sends): one sealed-sender
// v2 message for several accounts of this relay. The relay parses it only to
// cut out each recipient's copy (libsignal's server API); it learns the
// recipient set of this send and nothing of its sender or content.

type MultiFrame = Extract<ClientFrame, { type: 'send.multi' }>;
type MultiResult = { readonly envelopeIds: string[] } | { readonly error: Refusal['error'] };

/** One recipient as the body names it: its devices, and how to cut its copy. */
interface ParsedRecipient {
  readonly devices: readonly { readonly deviceId: number; readonly registrationId: number }[];
  /** `0x22 || C_i || AT_i || e_pub || ciphertext`, made only for accepted recipients. */
  readonly copy: () => Uint8Array;
}

/** A parsed sent message: its recipients (excluded ones left out) and the size every copy has. */
interface ParsedMessage {
  readonly recipients: ReadonlyMap<string, ParsedRecipient>;
  readonly copyBytes: number;
}

/** Parses a sent message with libsignal; undefined if it does not parse. */
function parseSentMessage(body: Uint8Array<ArrayBuffer>): ParsedMessage | undefined {
  try {
    const message = new SealedSenderMultiRecipientMessage(body);
    const recipients = new Map<string, ParsedRecipient>();
    for (const [serviceId, recipient] of Object.entries(message.recipientsByServiceIdString())) {
      const devices = recipient.deviceIds.map((deviceId, i) => ({
        deviceId,
        registrationId: recipient.registrationIds[i] ?? -1,
      }));
      recipients.set(serviceId, { devices, copy: () => message.messageForRecipient(recipient) });
    }
    // Every copy is the same size (one key entry and the shared bytes): measure one.
    const first = recipients.values().next();
    return { recipients, copyBytes: first.done ? 0 : first.value.copy().length };
  } catch {
    return undefined; // libsignal's parse error says nothing a client may see
  }
}

/** The published devices of each account, for the device check. */
function byAccount(known: readonly DeviceRegistration[]): Map<AccountId, DeviceRegistration[]> {
  const map = new Map<AccountId, DeviceRegistration[]>();
  for (const device of known)
    map.set(device.accountId, [...(map.get(device.accountId) ?? []), device]);
  return map;
}

/** Whether every listed device is one the account published, with the registration id it published. */
function devicesKnown(
  listed: ParsedRecipient['devices'],
  published: readonly DeviceRegistration[],
): boolean {
  return listed.every((device) =>
    published.some(
      (k) => k.deviceId === device.deviceId && k.registrationId === device.registrationId,
    ),
  );
}

/**
 * Answers a send.multi: parse, exact recipient set, copy size, source
 * budgets, then per recipient token, devices and destination budgets; the
 * accepted copies go to storage in one commit and their mailboxes are woken.
 */
export async function answerMultiSend(
  frame: MultiFrame,
  context: AnonymousContext,
): Promise<ServerFrame> {
  // The schema admits only padded base64, so this decodes.
  const body = decodeBase64(frame.body) ?? new Uint8Array();
  const parsed = parseSentMessage(body);
  if (
    parsed === undefined ||
    parsed.recipients.size !== frame.recipients.length ||
    frame.recipients.some((r) => !parsed.recipients.has(r.accountId))
  )
    return errorFrame('RELAY_ERR_MALFORMED', frame.id);
  // Every copy carries the same shared ciphertext, so one copy too large means all are.
  if (parsed.copyBytes > RELAY_LIMITS.maxEnvelopeBytes)
    return errorFrame('RELAY_ERR_TOO_LARGE', frame.id);
  // The source pays for what the relay would store (one copy per listed device), as
  // the same sends one by one would, and before any token is checked, so a stranger
  // pays for every try and one frame cannot write more than that many sends could.
  const devices = [...parsed.recipients.values()].reduce((n, r) => n + r.devices.length, 0);
  const spent = overBudget(
    context.budgets.submit(
      context.budget,
      context.address,
      devices * parsed.copyBytes,
      frame.recipients.length,
    ),
  );
  if (spent) return refusalFrame(spent, frame.id);

  const { storage, now } = context.settings;
  const published = byAccount(await storage.devicesOf(frame.recipients.map((r) => r.accountId)));
  const results: MultiResult[] = [];
  const accepted: NewEnvelope[] = [];
  const owners: number[] = []; // accepted[i] belongs to recipient owners[i]
  const receivedAt = now();
  for (const [index, recipient] of frame.recipients.entries()) {
    const entry = parsed.recipients.get(recipient.accountId)!;
    const mailboxes: Mailbox[] = entry.devices.map((d) => ({
      accountId: recipient.accountId,
      deviceId: d.deviceId,
    }));
    // The store re-checks the hash (delivery-tokens.ts).
    const token = await tokenThenBudget(recipient.accountId, recipient.token, context, async () =>
      // An unknown device answers like an unknown account: nobody learns which devices exist.
      devicesKnown(entry.devices, published.get(recipient.accountId) ?? [])
        ? overBudget(await context.budgets.deliver(mailboxes, parsed.copyBytes))
        : { error: 'RELAY_ERR_BAD_TOKEN' },
    );
    results[index] = 'error' in token ? { error: token.error } : { envelopeIds: [] };
    if ('error' in token) continue;
    const copy = entry.copy();
    for (const to of mailboxes) {
      const { tokenHash } = token;
      accepted.push({
        clientMessageId: frame.clientMessageId,
        to,
        body: copy,
        receivedAt,
        tokenHash,
      });
      owners.push(index);
    }
  }
  if (accepted.length > 0) await store(accepted, owners, results, context);
  return { type: 'sent.multi', id: frame.id, results };
}

/** Stores the accepted copies in one commit, completes `results` and wakes the mailboxes. */
async function store(
  accepted: readonly NewEnvelope[],
  owners: readonly number[],
  results: MultiResult[],
  context: AnonymousContext,
): Promise<void> {
  const { storage, mailboxQuota, maxStorageBytes } = context.settings;
  const stored = await storage.storeEnvelopes(accepted, { mailboxQuota, maxStorageBytes });
  // Committed (synchronous=FULL) before this point, so the answer and the pushes are both safe.
  const arrived: Arrival[] = [];
  for (const [i, result] of stored.entries()) {
    const index = owners[i]!;
    const current = results[index]!;
    if (result.kind !== 'stored' && result.kind !== 'duplicate') {
      // A recipient is refused if any of its devices was; copies stored for its
      // other devices stay, and a resubmit finds them (idempotent per mailbox).
      const error =
        result.kind === 'mailbox-full'
          ? 'RELAY_ERR_MAILBOX_FULL'
          : result.kind === 'storage-full'
            ? 'RELAY_ERR_STORAGE_FULL'
            : context.tokens.refused(accepted[i]!.to.accountId, result.kind);
      if ('envelopeIds' in current) results[index] = { error };
      continue;
    }
    if ('envelopeIds' in current) current.envelopeIds.push(result.envelopeId);
    if (result.kind === 'stored') arrived.push(arrivalOf(accepted[i]!, result));
  }
  wake(arrived, context);
}
