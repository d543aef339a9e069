import type { Sql } from '../db/sqlite.ts';
import { hasCode, SottoError } from '../errors.ts';
import type { Profile } from '../profile/profile.ts';
import type { BlobUpload, BlobUploads } from '../sync/blobs.ts';
import {
  attachmentById,
  type AttachmentRow,
  RECHECK_BLOB,
  selectAttachments,
  updateAttachment,
} from './attachment-rows.ts';
import { encryptAgain } from './transfer-control.ts';
import type { Transfer } from './transfers.ts';
import { uploadOf } from './upload-job.ts';

// Retry of a group message whose files uploaded but whose fan-out the relay
// refused (a full mailbox, a stale delivery token...): the blobs were
// complete, so Retry sends no byte it need not. Each row goes back to
// 'uploading' with its reservation, marked RECHECK_BLOB; the upload job
// then asks the relay (tus HEAD) whether the blob is still whole. Only a
// blob the relay no longer has (expired, swept) is encrypted again from the
// stored copy under a new transport key and uploaded as a new blob. Once
// every row is 'uploaded' again the job fans the one group-text out to the
// members of now (upload-job.ts queueUploadedGroupMessages), so nobody gets
// a pointer to a blob that is gone, and a member who has the message drops
// the copy (same id).

/**
 * Puts the files of our failed group message `groupMessageId` back in the
 * upload job's hands for a check against the relay, inside the caller's
 * transaction. INVALID_INPUT unless every file had completed its upload
 * (a cancelled upload resumes through retryCancelledGroupUpload; a refused
 * one has no ciphertext left to resume).
 */
export function requeueUploadedFiles(db: Sql, groupMessageId: number): void {
  const rows = selectAttachments(db, 'group_message_id = ?', [groupMessageId]);
  if (rows.some((row) => row.state !== 'uploaded'))
    throw new SottoError('INVALID_INPUT', 'a message whose files did not upload');
  for (const row of rows)
    updateAttachment(db, row.id, {
      state: 'uploading',
      error: RECHECK_BLOB,
      attempts: 0,
      next_attempt_at: 0,
    });
}

/**
 * For the upload job, a row `requeueUploadedFiles` queued (RECHECK_BLOB):
 * marks it 'uploaded' again if the relay still holds its whole blob and
 * returns undefined; otherwise encrypts it again and returns the row to
 * upload (undefined too if the message was deleted meanwhile). A row with no
 * reservation to ask about (a backup restores the pointer, never the upload
 * token) is encrypted again too.
 */
export async function confirmUploaded(
  profile: Profile,
  uploads: BlobUploads,
  row: AttachmentRow,
  transfer: Transfer,
): Promise<AttachmentRow | undefined> {
  const upload = uploadOf(row);
  if (upload && (await stillWhole(uploads, upload))) {
    transfer.check(); // the user's Cancel meanwhile still wins
    transfer.progress(upload.length, true);
    profile.commit(undefined, (db) =>
      updateAttachment(db, row.id, { state: 'uploaded', error: null }),
    );
    return undefined;
  }
  await encryptAgain(profile, row);
  // Checked: from here it is an upload like any other (a crash before this only encrypts again).
  profile.commit(undefined, (db) => updateAttachment(db, row.id, { error: null }));
  return attachmentById(profile.db, row.id);
}

/** Whether the relay holds all of `upload`'s bytes (never asked once its expiry passed). */
async function stillWhole(uploads: BlobUploads, upload: BlobUpload): Promise<boolean> {
  if (upload.expiresAt <= Date.now()) return false;
  try {
    return (await uploads.offset(upload)) === upload.length;
  } catch (error) {
    if (hasCode(error, 'ATTACHMENT_NOT_FOUND')) return false;
    throw error;
  }
}
