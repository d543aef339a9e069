import { z } from 'zod';
import { accountIdSchema } from '../protocol/account-id.ts';
import { RELAY_LIMITS } from './protocol-limits.ts';
import { deliveryTokenSchema, deviceId, envelopeId, nonEmptyBase64 } from './wire-fields.ts';

// Envelopes as they cross the relay: stored ones as the relay delivers them,
// sealed ones as a client submits them (one mailbox each, or one sealed-sender
// v2 message for many recipients).

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
export const multiSendMembers = {
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
