import { toBase64 } from '../../../shared/protocol/encoding.ts';
import {
  type MultiRecipient as WireRecipient,
  RELAY_LIMITS,
} from '../../../shared/relay/protocol.ts';
import { SottoError } from '../errors.ts';
import {
  entryBytes,
  sentMessageBytes,
  sentMessageFor,
  splittable,
  type SplitRecipient,
} from './multi-split.ts';
import type { MultiSubmission } from './relay.ts';

// How a multi-recipient submission becomes send.multi frames: one frame when
// it fits the recipient, frame and copy limits, else several, each carrying the
// sent message cut down to its own recipients (multi-split.ts). Every frame
// keeps the submission's clientMessageId: idempotency is per mailbox, and
// no mailbox is in two frames.

/** Room a send.multi frame keeps for its own members (type, id, clientMessageId, brackets). */
const FRAME_OVERHEAD = 256;

/**
 * Bytes of copies (listed devices × copy size) one frame may make the relay
 * store. The relay charges the sender's byte budgets for every copy; this is
 * half the default per-connection burst (16 MiB), so a large group message
 * goes out in frames a relay with default budgets can take.
 */
export const MAX_FRAME_COPY_BYTES = 8 * 1024 * 1024;

/** Below this (body bytes × recipients) no frame can come near the copy bound: no parse needed. */
const PARSE_ABOVE = 1024 * 1024;

/** A copy is 0x22 || C_i || AT_i || the shared bytes. */
const COPY_OVERHEAD = 1 + 32 + 16;

/** One planned frame, or a recipient no frame can carry. */
export type MultiFramePlan =
  | { readonly body: string; readonly recipients: WireRecipient[] }
  | { readonly tooLarge: WireRecipient };

const base64Length = (bytes: number) => Math.ceil(bytes / 3) * 4;
const recipientLength = (r: WireRecipient) => JSON.stringify(r).length + 1; // ASCII, + comma

/**
 * The frames for a submission, in recipient order. Throws RELAY_REFUSED
 * (RELAY_ERR_MALFORMED) when a split is needed and the body does not parse or
 * does not name exactly the submission's recipients: the relay would refuse it anyway.
 */
export function planMultiFrames(submission: MultiSubmission): MultiFramePlan[] {
  const wire: WireRecipient[] = submission.recipients.map((r) => ({
    accountId: r.accountId,
    token: toBase64(r.token),
  }));
  const budget = RELAY_LIMITS.maxFrameBytes - FRAME_OVERHEAD;
  const whole =
    base64Length(submission.body.length) + wire.reduce((n, r) => n + recipientLength(r), 0);
  if (
    wire.length <= RELAY_LIMITS.maxMultiRecipients &&
    whole <= budget &&
    submission.body.length * wire.length <= PARSE_ABOVE
  )
    return [{ body: toBase64(submission.body), recipients: wire }];

  const parsed = splittable(submission.body);
  const names = new Set(wire.map((r) => r.accountId));
  if (
    parsed === undefined ||
    parsed.recipients.size !== names.size ||
    wire.some((r) => !parsed.recipients.has(r.accountId))
  )
    throw new SottoError('RELAY_REFUSED', 'RELAY_ERR_MALFORMED');

  const plans: MultiFramePlan[] = [];
  let entries: SplitRecipient[] = [];
  let recipients: WireRecipient[] = [];
  let entryTotal = 0;
  let recipientTotal = 0;
  let copyTotal = 0;
  const copyBytes = COPY_OVERHEAD + parsed.shared.length;
  const size = (count: number, entryBytesTotal: number, recipientBytes: number) =>
    base64Length(sentMessageBytes(count, entryBytesTotal, parsed.shared.length)) + recipientBytes;
  const flush = () => {
    if (recipients.length > 0)
      plans.push({ body: toBase64(sentMessageFor(entries, parsed.shared)), recipients });
    entries = [];
    recipients = [];
    entryTotal = 0;
    recipientTotal = 0;
    copyTotal = 0;
  };
  for (const recipient of wire) {
    const entry = parsed.recipients.get(recipient.accountId)!;
    const own = entryBytes(entry);
    const listed = recipientLength(recipient);
    const copies = entry.devices.length * copyBytes;
    if (size(1, own, listed) > budget) {
      plans.push({ tooLarge: recipient });
      continue;
    }
    if (
      recipients.length >= RELAY_LIMITS.maxMultiRecipients ||
      size(recipients.length + 1, entryTotal + own, recipientTotal + listed) > budget ||
      copyTotal + copies > MAX_FRAME_COPY_BYTES
    )
      flush();
    entries.push(entry);
    recipients.push(recipient);
    entryTotal += own;
    recipientTotal += listed;
    copyTotal += copies;
  }
  flush();
  return plans;
}
