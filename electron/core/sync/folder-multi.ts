import SealedSenderMultiRecipientMessage, {
  type Recipient,
} from '@signalapp/libsignal-client/dist/SealedSenderMultiRecipientMessage.js';
import { type AccountId, accountIdSchema } from '../../../shared/protocol/account-id.ts';
import { RELAY_LIMITS } from '../../../shared/relay/protocol.ts';
import { SottoError } from '../errors.ts';
import type { MultiSubmission } from './relay.ts';

// The folder relay's multi-recipient send (docs/relay-protocol.md#multi-recipient-sends):
// the relay's half of sealed sender v2. The body names its recipients and
// their devices; each recipient gets `messageForRecipient` (the shared
// ciphertext plus its own key material) in every listed device's mailbox.
// A folder has no transaction across mailboxes: each file appears whole
// (staged and renamed), and a resubmit after a crash is recognised per
// mailbox, so the sender's retry completes what a crash left undone.

/** Most recipients one multi-recipient send may name (a group's size). */
export const MAX_MULTI_RECIPIENTS = 1000;
const MAX_DEVICE_ID = 127;

/** What the folder relay lends the multi-recipient send. */
export interface MultiMailboxes {
  checkToken(accountId: AccountId, deviceId: number, token: Uint8Array): void;
  deliver(accountId: AccountId, deviceId: number, clientMessageId: string, body: Uint8Array): void;
}

/**
 * Checks a multi-recipient submission and stores one copy per recipient
 * device. Throws RELAY_REFUSED MALFORMED (nothing stored) for a body libsignal
 * cannot parse or that does not name exactly the listed recipients; a wrong
 * token refuses that recipient only (none of its devices get a copy).
 */
export function storeMulti(
  submission: MultiSubmission,
  mailboxes: MultiMailboxes,
): Map<AccountId, string | undefined> {
  const byAccount = parseRecipients(submission);
  const results = new Map<AccountId, string | undefined>();
  for (const { accountId, token } of submission.recipients) {
    const recipient = byAccount.get(accountId);
    if (!recipient) throw malformed();
    try {
      for (const deviceId of recipient.deviceIds) mailboxes.checkToken(accountId, deviceId, token);
      const body = recipient.message();
      for (const deviceId of recipient.deviceIds)
        mailboxes.deliver(accountId, deviceId, submission.clientMessageId, body);
      results.set(accountId, undefined);
    } catch (error) {
      if (!(error instanceof SottoError && error.code === 'RELAY_REFUSED' && error.detail))
        throw error;
      results.set(accountId, error.detail);
    }
  }
  return results;
}

interface ParsedRecipient {
  readonly deviceIds: readonly number[];
  message(): Uint8Array;
}

function parseRecipients(submission: MultiSubmission): Map<AccountId, ParsedRecipient> {
  const listed = submission.recipients.map((r) => r.accountId);
  if (
    listed.length === 0 ||
    listed.length > MAX_MULTI_RECIPIENTS ||
    new Set(listed).size !== listed.length ||
    submission.body.length === 0 ||
    submission.body.length > RELAY_LIMITS.maxFrameBytes ||
    !/^[0-9a-f-]{36}$/.test(submission.clientMessageId)
  ) {
    throw malformed();
  }
  let parsed: SealedSenderMultiRecipientMessage;
  let recipients: Readonly<Record<string, Recipient>>;
  try {
    parsed = new SealedSenderMultiRecipientMessage(Uint8Array.from(submission.body));
    recipients = parsed.recipientsByServiceIdString();
  } catch {
    throw malformed();
  }
  const named = Object.keys(recipients);
  // The body must name exactly the listed accounts: a recipient without a token would be written for free.
  if (named.length !== listed.length) throw malformed();
  const out = new Map<AccountId, ParsedRecipient>();
  for (const serviceId of named) {
    const accountId = accountIdSchema.safeParse(serviceId);
    const recipient = recipients[serviceId];
    if (!accountId.success || !recipient || !listed.includes(accountId.data)) throw malformed();
    const { deviceIds } = recipient;
    if (
      deviceIds.length === 0 ||
      new Set(deviceIds).size !== deviceIds.length ||
      deviceIds.some((d) => !Number.isInteger(d) || d < 1 || d > MAX_DEVICE_ID)
    ) {
      throw malformed();
    }
    out.set(accountId.data, { deviceIds, message: () => parsed.messageForRecipient(recipient) });
  }
  return out;
}

function malformed(): SottoError {
  return new SottoError('RELAY_REFUSED', 'RELAY_ERR_MALFORMED');
}
