import type { Sql } from '../db/sqlite.ts';
import { SottoError } from '../errors.ts';
import { selectAttachments, updateAttachment } from './attachment-rows.ts';

// Retry of a group message whose files uploaded but whose fan-out the relay
// refused (a full mailbox, a stale delivery token...): the blobs were
// complete, so Retry sends no byte it need not. Each row goes back to
// 'uploading' with its reservation, and the upload job treats it as any
// other (upload-job.ts): it asks the relay (tus HEAD) where the blob stands,
// marks a whole one uploaded without sending a byte, resumes a part it can
// make again, and seals a blob the relay no longer has again from the stored
// copy (reseal.ts: the same key and bytes for a re-derivable row, a new key
// for a restored or older row). Once every row is 'uploaded' again the job
// fans the one group-text out to the members of now (upload-queue.ts
// queueUploadedGroupMessages), so nobody gets a pointer to a blob that is
// gone, and a member who has the message drops the copy (same id).

/**
 * Puts the files of our failed group message `groupMessageId` back in the
 * upload job's hands, inside the caller's transaction. INVALID_INPUT unless
 * every file had completed its upload (a cancelled upload resumes through
 * retryCancelledGroupUpload; a refused one has no ciphertext left to resume).
 */
export function requeueUploadedFiles(db: Sql, groupMessageId: number): void {
  const rows = selectAttachments(db, 'group_message_id = ?', [groupMessageId]);
  if (rows.some((row) => row.state !== 'uploaded'))
    throw new SottoError('INVALID_INPUT', 'a message whose files did not upload');
  for (const row of rows)
    updateAttachment(db, row.id, {
      state: 'uploading',
      error: null,
      attempts: 0,
      next_attempt_at: 0,
    });
}
