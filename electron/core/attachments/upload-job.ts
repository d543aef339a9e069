import { statSync } from 'node:fs';
import { ciphertextSize } from '../../../shared/protocol/attachment.ts';
import { hasCode, SottoError } from '../errors.ts';
import { log } from '../log.ts';
import type { Profile } from '../profile/profile.ts';
import type { BlobUpload, BlobUploads } from '../sync/blobs.ts';
import { backoffMs } from '../sync/backoff.ts';
import {
  attachmentById,
  type AttachmentRow,
  selectAttachments,
  updateAttachment,
} from './attachment-rows.ts';
import { blobSourceOf } from './blob-source.ts';
import { queueUploaded } from './upload-queue.ts';
import { removeFiles, tempPath } from './local-files.ts';
import { startTransfer, type Transfer } from './transfers.ts';
import { uploadStart } from './upload-start.ts';

// The upload job: every outgoing attachment still 'uploading' is sent to the
// home relay, its bytes re-derived from the stored copy (blob-source.ts; a
// row of an older version from its ciphertext temp file), one append at a time, the relay's
// acknowledged offset committed after each; a resume asks the relay where it
// stands (never from zero while the relay holds a prefix the row can make
// again; upload-start.ts). A message whose uploads are all complete is then
// queued (R2).
//
// An append ends at UPLOAD_CHUNK_BYTES or after UPLOAD_CHUNK_MS, whichever
// comes first: the relay fsyncs once per append and the row is committed
// once per append, so on a fast link these are a few per 100 MiB (each a
// synchronous disk flush), and on a slow one progress is still durable every second.
//
// The user may cancel an upload (transfers.ts): the append in flight stops,
// the message is not sent and fails with its attachments' error CANCELLED
// (failUpload); Retry resumes it, Delete removes it with its ciphertext.

/** Most bytes per append. */
export const UPLOAD_CHUNK_BYTES = 8 * 1024 * 1024;

/** Most time per append (a slow link still acknowledges progress this often). */
export const UPLOAD_CHUNK_MS = 1000;

/** Relay refusals that mean "later" for a blob (the per-account quota frees up as blobs expire). */
const TRY_LATER = new Set([
  'RELAY_ERR_BLOB_QUOTA',
  'RELAY_ERR_STORAGE_FULL',
  'RELAY_ERR_OVER_BUDGET',
]);

/** What an upload pass did. */
export interface UploadReport {
  readonly uploaded: number;
  readonly queued: number;
  readonly failed: number;
}

/**
 * Uploads what is due and queues the messages whose uploads completed. A relay
 * that cannot be reached stops the pass (the rows wait with a backoff); a
 * permanent refusal fails that message for good.
 */
export async function uploadAttachments(
  profile: Profile,
  uploads: () => BlobUploads,
  now = Date.now(),
): Promise<UploadReport> {
  const rows = selectAttachments(
    profile.db,
    "state = 'uploading' AND outgoing = 1 AND next_attempt_at <= ? ORDER BY id",
    [now],
  );
  let uploaded = 0;
  let failed = 0;
  for (const row of rows) {
    // Read back: the user may have cancelled it since the pass began.
    if (attachmentById(profile.db, row.id)?.state !== 'uploading') continue;
    const transfer = startTransfer(profile, row.id, 'upload', ciphertextSize(row.size));
    try {
      await uploadOne(profile, uploads(), row, transfer);
      uploaded++;
    } catch (error) {
      if (transfer.signal.aborted) {
        failUpload(profile, row, new SottoError('CANCELLED', 'upload cancelled'));
        failed++;
        continue;
      }
      const unavailable =
        hasCode(error, 'RELAY_UNAVAILABLE') ||
        hasCode(error, 'NOT_CONFIGURED') ||
        (error instanceof SottoError && error.detail !== undefined && TRY_LATER.has(error.detail));
      if (unavailable) {
        profile.commit(undefined, (db) =>
          updateAttachment(db, row.id, {
            attempts: row.attempts + 1,
            next_attempt_at: Date.now() + backoffMs(row.attempts + 1),
          }),
        );
        break; // the relay is down: the rest would fail the same way
      }
      if (!(error instanceof SottoError)) throw error;
      log.error('attachments.upload_refused', error);
      failUpload(profile, row, error);
      failed++;
    } finally {
      transfer.end();
    }
  }
  return { uploaded, queued: queueUploaded(profile), failed };
}

async function uploadOne(
  profile: Profile,
  uploads: BlobUploads,
  queued: AttachmentRow,
  transfer: Transfer,
): Promise<void> {
  if (
    queued.tempName &&
    sizeOf(tempPath(profile.paths.dir, queued.tempName)) !== ciphertextSize(queued.size)
  )
    // An older version's ciphertext, fsynced before its row was committed: another size means it was damaged.
    throw new SottoError('INTERNAL', 'upload ciphertext damaged');
  const start = await uploadStart(profile, uploads, queued);
  if (!start) return; // the message was deleted meanwhile
  const { row, upload } = start;
  // Whole already (a fan-out retry's blob the relay kept, or a crash after the last append): no byte is sent.
  transfer.progress(start.offset, start.offset >= upload.length);
  const offset =
    start.offset < upload.length
      ? await sendFrom(profile, uploads, row, upload, start.offset, transfer)
      : start.offset;
  transfer.check(); // a cancel that came with the last append still wins: the message is not sent
  profile.commit(undefined, (db) =>
    updateAttachment(db, row.id, { state: 'uploaded', temp_name: null, transfer_offset: offset }),
  );
  if (row.tempName) removeFiles(profile.paths.dir, { temp: [row.tempName] });
}

/** Appends the blob from `offset` to its end, committing each acknowledged offset; the last one. */
async function sendFrom(
  profile: Profile,
  uploads: BlobUploads,
  row: AttachmentRow,
  upload: BlobUpload,
  offset: number,
  transfer: Transfer,
): Promise<number> {
  const source = blobSourceOf(profile.paths.dir, row);
  try {
    while (offset < upload.length) {
      transfer.check();
      const end = Math.min(offset + UPLOAD_CHUNK_BYTES, upload.length);
      const before = offset;
      try {
        offset = await uploads.append(
          upload,
          offset,
          timeBound(source.bytes(offset, end), transfer, offset),
        );
      } catch (error) {
        // The source's own failure (a damaged stored copy) is the one to report, not the relay's view of it.
        throw source.failure ?? error;
      }
      if (source.failure) throw source.failure;
      if (offset <= before) throw new SottoError('RELAY_UNAVAILABLE', 'upload made no progress');
      const acknowledged = offset;
      profile.commit(undefined, (db) =>
        updateAttachment(db, row.id, { transfer_offset: acknowledged }),
      );
    }
    return offset;
  } finally {
    await source.close();
  }
}

/**
 * The chunks of `source` until UPLOAD_CHUNK_MS have passed (always the first
 * one: progress is made), reporting progress; CANCELLED between chunks once
 * the user cancelled (the append then fails and the row is failed as cancelled).
 */
async function* timeBound(
  source: AsyncIterable<Buffer>,
  transfer: Transfer,
  offset: number,
): AsyncGenerator<Buffer> {
  const deadline = Date.now() + UPLOAD_CHUNK_MS;
  let done = offset;
  for await (const chunk of source) {
    transfer.check();
    yield chunk;
    done += chunk.length;
    transfer.progress(done);
    // Returning closes `source` (its read in flight settles first).
    if (Date.now() >= deadline) return;
  }
}

/**
 * A permanent refusal or the user's cancel: the message fails (the user sees
 * it) and its uploads stop. A refusal's ciphertext goes; a cancel keeps it
 * (and the relay reservation) so Retry resumes where it stopped
 * (transfer-control.ts retryCancelledUpload); Delete removes it with the message.
 */
export function failUpload(profile: Profile, row: AttachmentRow, error: SottoError): void {
  const siblings =
    row.messageId !== null
      ? selectAttachments(profile.db, 'message_id = ?', [row.messageId])
      : selectAttachments(profile.db, 'group_message_id = ?', [row.groupMessageId ?? -1]);
  const keep = error.code === 'CANCELLED';
  profile.commit(undefined, (db) => {
    for (const sibling of siblings.length > 0 ? siblings : [row]) {
      if (sibling.state !== 'uploading') continue;
      updateAttachment(db, sibling.id, {
        state: 'failed',
        error: error.code === 'RELAY_REFUSED' ? (error.detail ?? error.code) : error.code,
        ...(keep ? {} : { temp_name: null }),
      });
    }
    if (row.messageId !== null)
      db.prepare("UPDATE messages SET status = 'failed' WHERE id = ?").run([row.messageId]);
    else
      db.prepare("UPDATE group_messages SET status = 'failed' WHERE id = ?").run([
        row.groupMessageId,
      ]);
  });
  if (keep) return;
  removeFiles(profile.paths.dir, {
    temp: siblings.flatMap((s) => (s.state === 'uploading' && s.tempName ? [s.tempName] : [])),
  });
}

function sizeOf(path: string): number {
  try {
    return statSync(path).size;
  } catch {
    return -1;
  }
}
