import { ciphertextSize } from '../../../shared/protocol/attachment.ts';
import { hasCode } from '../errors.ts';
import type { Profile } from '../profile/profile.ts';
import type { BlobUpload, BlobUploads } from '../sync/blobs.ts';
import { attachmentById, type AttachmentRow, updateAttachment } from './attachment-rows.ts';
import { sealAgain } from './reseal.ts';

// Where an upload goes on (upload-job.ts), decided for every 'uploading' row
// alike: a first upload, a resume after a crash or a relay restart, a Retry
// of a cancelled upload, a Retry of a refused fan-out
// (docs/architecture.md#re-derivable-blobs).
//
// A row with a reservation asks the relay (tus HEAD) how much it holds. All
// of it: nothing is sent. A part: the upload resumes there if the row can
// make the same bytes again (`blob_rederivable`, or an older version's `.up`
// file), else the row is sealed again. None (the relay answers not found, or
// the reservation's expiry has passed): a new blob, the row sealed again
// first unless it has a `.up` file. Sealing again (reseal.ts) keeps the key
// of a re-derivable row (the same blob under a new id) and gives any other
// a new key; either way it reads the whole stored copy before anything is
// reserved, so an altered copy is ATTACHMENT_TAMPERED with nothing sent.

/** The row to upload (sealed again if it had to be), its reservation, and the relay's offset in it. */
export interface UploadStart {
  readonly row: AttachmentRow;
  readonly upload: BlobUpload;
  readonly offset: number;
}

/** Where `row`'s upload goes on; undefined if the row was deleted while it was sealed again. */
export async function uploadStart(
  profile: Profile,
  uploads: BlobUploads,
  row: AttachmentRow,
): Promise<UploadStart | undefined> {
  const upload = uploadOf(row);
  const offset = upload ? await heldBy(uploads, upload) : undefined;
  if (upload && offset !== undefined && (offset >= upload.length || reproducible(row)))
    return { row, upload, offset };
  const ready = await readyToReserve(profile, row);
  return ready && { row: ready, upload: await reserve(profile, uploads, ready), offset: 0 };
}

/** The relay reservation a row records, if it has one. */
export function uploadOf(row: AttachmentRow): BlobUpload | undefined {
  if (!row.blobId || !row.uploadToken || row.uploadLength === null) return undefined;
  return {
    blobId: row.blobId,
    uploadToken: row.uploadToken,
    length: row.uploadLength,
    expiresAt: row.uploadExpiresAt ?? 0,
  };
}

/** How many bytes of `upload` the relay holds; undefined when it no longer has it (past its expiry: not asked). */
async function heldBy(uploads: BlobUploads, upload: BlobUpload): Promise<number | undefined> {
  if (upload.expiresAt <= Date.now()) return undefined;
  try {
    return await uploads.offset(upload);
  } catch (error) {
    if (hasCode(error, 'ATTACHMENT_NOT_FOUND')) return undefined;
    throw error;
  }
}

/** Whether the row's blob can be made again byte for byte: from an older version's `.up` file, or by derivation. */
function reproducible(row: AttachmentRow): boolean {
  return row.tempName !== null || row.blobRederivable;
}

/**
 * The row as it goes into a new reservation. A blob compose sealed that
 * never had one is sent as it is, and so is an older version's `.up` file;
 * any other row (its blob gone from the relay or not one it can make again;
 * restored; older) is sealed again from its stored copy first. Undefined if
 * the row was deleted meanwhile.
 */
async function readyToReserve(
  profile: Profile,
  row: AttachmentRow,
): Promise<AttachmentRow | undefined> {
  if (row.tempName || (row.blobId === null && row.blobRederivable)) return row;
  await sealAgain(profile, row);
  return attachmentById(profile.db, row.id);
}

/** Reserves the row's blob on the relay and commits the reservation (offset 0). */
async function reserve(
  profile: Profile,
  uploads: BlobUploads,
  row: AttachmentRow,
): Promise<BlobUpload> {
  const upload = await uploads.create(ciphertextSize(row.size));
  profile.commit(undefined, (db) =>
    updateAttachment(db, row.id, {
      blob_id: upload.blobId,
      upload_token: upload.uploadToken,
      upload_length: upload.length,
      upload_expires_at: upload.expiresAt,
      transfer_offset: 0,
    }),
  );
  return upload;
}
