import { z } from 'zod';
import { messageUuid, time } from './account-records.ts';

// "Delete for me" in a backup (docs/backup-format.md#deleted-messages,
// version 5): one `deletedMessage` record per uuid of the profile's
// `deleted_messages` table (migration 0017), the incoming messages the user
// deleted. Without them a backup restored on a new machine would take a
// sender's resend of a deleted message (a new envelope id, the same uuid) as
// new, and the message would come back. Files before version 5 have none.

/** The first inner stream version that may hold `deletedMessage` records. */
export const DELETION_VERSION = 5;

/** One deleted incoming message: its sender-assigned uuid and when the user deleted it. */
export const deletedMessageRecordSchema = z.strictObject({
  type: z.literal('deletedMessage'),
  uuid: messageUuid,
  deletedAt: time,
});
export type DeletedMessageRecord = z.infer<typeof deletedMessageRecordSchema>;
