import { SottoError } from '../errors.ts';
import type { Profile } from '../profile/profile.ts';
import { type AttachmentRow, updateAttachment } from './attachment-rows.ts';
import { BlobSealer, newAttachmentKey } from './attachment-crypto.ts';
import { gathered } from './file-chunks.ts';
import { removeFiles } from './local-files.ts';
import { openStoredCopy, storedCopyOf } from './stored-copy.ts';

// Sealing an outgoing row's transport blob again from its stored copy, when
// its upload has no blob on the relay to go on with (the relay no longer has
// it, or holds a part the row cannot make again) or a cancelled upload is
// retried without one (docs/architecture.md#re-derivable-blobs). No
// ciphertext is written: the upload job derives the bytes as it sends them.

/**
 * Reads the stored copy of `row` through once and records the blob it makes,
 * with no reservation (the upload job reserves a new blob). A re-derivable
 * row keeps its key: the same blob, so the digest must be the one it has
 * (ATTACHMENT_TAMPERED otherwise; the row is left as it was). Any other row
 * (restored, received from an older version's compose, its IV random) gets
 * a new key and digest and is re-derivable from then on. ATTACHMENT_TAMPERED
 * for a stored copy that was altered, ATTACHMENT_NOT_FOUND for one that is
 * gone: in both cases nothing was reserved or sent.
 */
export async function sealAgain(profile: Profile, row: AttachmentRow): Promise<void> {
  const dir = profile.paths.dir;
  const copy = storedCopyOf(dir, row);
  if (!copy) throw new SottoError('ATTACHMENT_NOT_FOUND', 'upload without its stored copy');
  const kept = row.blobRederivable ? row.digest : null;
  const key = kept ? row.transportKey : newAttachmentKey();
  let digest: Buffer;
  try {
    const sealer = new BlobSealer(row.size, key);
    for await (const plain of gathered(openStoredCopy(copy))) sealer.update(plain);
    sealer.finish();
    digest = sealer.sealed.digest;
  } catch (error) {
    if (error instanceof SottoError) throw error;
    throw new SottoError('ATTACHMENT_NOT_FOUND', 'stored copy unreadable');
  }
  // The pointer names this digest: a copy that no longer makes it is not the file that was sent.
  if (kept && !digest.equals(kept))
    throw new SottoError('ATTACHMENT_TAMPERED', 'stored copy does not make the blob');
  profile.commit(undefined, (db) =>
    updateAttachment(db, row.id, {
      transport_key: key,
      digest,
      blob_rederivable: 1,
      temp_name: null,
      blob_id: null,
      upload_token: null,
      upload_length: null,
      upload_expires_at: null,
      transfer_offset: 0,
    }),
  );
  if (row.tempName) removeFiles(dir, { temp: [row.tempName] });
}
