import { z } from 'zod';
import { accountIdSchema } from '../../../../shared/protocol/account-id.ts';
import { messageUuid, time } from './account-records.ts';

// "Delete for me" in a backup (docs/backup-format.md#deleted-messages,
// version 5): one `deletedMessage` record per entry of the profile's
// `deleted_messages` table (migration 0017), the incoming messages the user
// deleted. Without them a backup restored on a new machine would take a
// sender's resend of a deleted message (a new envelope id, the same uuid) as
// new, and the message would come back. Files before version 5 have none.

/** The first inner stream version that may hold `deletedMessage` records. */
export const DELETION_VERSION = 5;

/** Version 5: a deleted message's uuid and when the user deleted it (read as: any sender). */
export const deletedMessageRecordSchemaV5 = z
  .strictObject({
    type: z.literal('deletedMessage'),
    uuid: messageUuid,
    deletedAt: time,
  })
  .transform((r) => ({ type: r.type, uuid: r.uuid, senderAccount: null, deletedAt: r.deletedAt }));

/**
 * Version 6: also the account that sent it (migration 0020), so the entry
 * keeps only that sender's copy out; null for an entry the profile recorded
 * before it kept senders (any sender, as in version 5).
 */
export const deletedMessageRecordSchema = z.strictObject({
  type: z.literal('deletedMessage'),
  uuid: messageUuid,
  senderAccount: accountIdSchema.nullable(),
  deletedAt: time,
});
export type DeletedMessageRecord = z.output<typeof deletedMessageRecordSchema>;
