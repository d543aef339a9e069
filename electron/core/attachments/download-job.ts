import { rmSync, statSync } from 'node:fs';
import { ciphertextSize } from '../../../shared/protocol/attachment.ts';
import type { RelayId } from '../../../shared/relay/protocol.ts';
import { hasCode, SottoError } from '../errors.ts';
import { log } from '../log.ts';
import type { Profile } from '../profile/profile.ts';
import { backoffMs } from '../sync/backoff.ts';
import type { BlobDownloads } from '../sync/blobs.ts';
import { decryptChunks } from './attachment-crypto.ts';
import { BlobCheck } from './blob-check.ts';
import { type DownloadRules, mayDownload } from './download-policy.ts';
import { readChunks, writeChunks } from './file-chunks.ts';
import {
  attachmentById,
  type AttachmentRow,
  selectAttachments,
  updateAttachment,
} from './attachment-rows.ts';
import {
  ensureAttachmentDirs,
  randomFileName,
  removeFiles,
  storeLocally,
  tempPath,
} from './local-files.ts';
import { startTransfer, type Transfer } from './transfers.ts';

// The download job: every incoming attachment still 'pending' is fetched from
// the sender's relay as the contact record names it (never from an address in
// a message), appended to a ciphertext temp file that is the resume point and
// hashed on the way in, then checked (length, digest, MAC) before one byte is
// decrypted, re-encrypted under a fresh local key into attachments/, and only
// then committed. A check that fails is final (ATTACHMENT_TAMPERED, never
// retried: R5), as is a blob the relay does not have (ATTACHMENT_NOT_FOUND).
// Only rows the policy allows or the user asked for are fetched
// (download-policy.ts); a download the user cancels loses its temp file and
// waits for a click again ('declined').

/** Opens the blob transport of the relay at an address (sync/blob-transport.ts). */
export type DownloadsFor = (address: string, relayId: RelayId | null) => BlobDownloads;

/** What a download pass did. */
export interface DownloadReport {
  readonly downloaded: number;
  readonly failed: number;
  readonly waiting: number;
}

/** Final outcomes: the row fails with this code and is never tried again. */
const FINAL = new Set([
  'ATTACHMENT_TAMPERED',
  'ATTACHMENT_NOT_FOUND',
  'ATTACHMENT_TOO_LARGE',
  'RELAY_REFUSED',
  'RELAY_ADDRESS_REFUSED',
  'INSECURE_RELAY',
  'UNKNOWN_CONTACT',
]);

/** Downloads what is due; a relay that is down leaves its rows waiting with a backoff. */
export async function downloadAttachments(
  profile: Profile,
  downloadsFor: DownloadsFor,
  rules: DownloadRules,
  now = Date.now(),
): Promise<DownloadReport> {
  const rows = selectAttachments(
    profile.db,
    "state = 'pending' AND outgoing = 0 AND next_attempt_at <= ? ORDER BY id",
    [now],
  ).filter((row) => mayDownload(rules, row));
  let downloaded = 0;
  let failed = 0;
  let waiting = 0;
  for (const row of rows) {
    // Read back: the user may have cancelled it since the pass began.
    const current = attachmentById(profile.db, row.id);
    if (current?.state !== 'pending' || !mayDownload(rules, current)) continue;
    const transfer = startTransfer(profile, row.id, 'download', ciphertextSize(row.size));
    try {
      await downloadOne(profile, downloadsFor, current, transfer);
      downloaded++;
    } catch (error) {
      if (transfer.signal.aborted) {
        declineDownload(profile, row.id);
        continue;
      }
      if (error instanceof SottoError && FINAL.has(error.code)) {
        log.error('attachments.download_failed', error);
        // Read back: this pass may have named the temp file since `row` was read.
        failDownload(profile, attachmentById(profile.db, row.id) ?? row, error.code);
        failed++;
        continue;
      }
      if (!hasCode(error, 'RELAY_UNAVAILABLE')) throw error;
      waiting++;
      profile.commit(undefined, (db) =>
        updateAttachment(db, row.id, {
          attempts: row.attempts + 1,
          next_attempt_at: Date.now() + backoffMs(row.attempts + 1),
        }),
      );
    } finally {
      transfer.end();
    }
  }
  return { downloaded, failed, waiting };
}

async function downloadOne(
  profile: Profile,
  downloadsFor: DownloadsFor,
  row: AttachmentRow,
  transfer: Transfer,
): Promise<void> {
  if (!row.blobId || !row.digest) throw new SottoError('ATTACHMENT_TAMPERED', 'no pointer');
  const dir = profile.paths.dir;
  const length = ciphertextSize(row.size);
  const tempName = row.tempName ?? randomFileName('.down');
  if (!row.tempName)
    profile.commit(undefined, (db) => updateAttachment(db, row.id, { temp_name: tempName }));
  ensureAttachmentDirs(dir);
  const path = tempPath(dir, tempName);
  let offset = sizeOf(path);
  if (offset > length) {
    rmSync(path, { force: true }); // not a prefix of this blob: start over
    offset = 0;
  }
  // The check hashes the bytes as they arrive; a resumed download first hashes the prefix it holds.
  const check = new BlobCheck({ size: row.size, digest: row.digest, key: row.transportKey });
  for await (const chunk of readChunks(path, 0, offset)) check.update(chunk);
  transfer.progress(offset);
  if (offset < length) {
    const relay = senderRelay(profile, row);
    const download = await downloadsFor(relay.address, relay.relayId).download(row.blobId, offset);
    // The pointer's size fixes the blob's length: anything else is refused before a byte is read.
    if (download.length !== length) throw new SottoError('ATTACHMENT_TAMPERED', 'blob length');
    // No fsync: the temp file is only a resume point, and the check covers whatever survived a crash.
    await writeChunks(checked(download.body, check, transfer, offset), path, {
      flags: 'a',
      start: offset,
      sync: false,
    });
    if (sizeOf(path) !== length) throw new SottoError('RELAY_UNAVAILABLE', 'download cut');
  }
  check.finish();
  transfer.check(); // a cancel that came with the last chunk still wins
  // Decrypted straight into a fresh local encryption (no plaintext on disk).
  const stored = await storeLocally(dir, decryptChunks(path, row.size, row.transportKey), row.size);
  try {
    profile.commit(undefined, (db) =>
      updateAttachment(db, row.id, {
        state: 'done',
        temp_name: null,
        transfer_offset: length,
        local_name: stored.localName,
        local_key: stored.localKey,
        local_digest: stored.localDigest,
        local_format: stored.localFormat,
      }),
    );
  } catch (error) {
    removeFiles(dir, { local: [stored.localName] });
    throw error;
  }
  // Its message was deleted meanwhile (history/delete-messages.ts): the copy must not outlive it.
  if (!attachmentById(profile.db, row.id)) removeFiles(dir, { local: [stored.localName] });
  removeFiles(dir, { temp: [tempName] });
}

/** The relay on the sender's contact record (1:1) or member card (group). */
function senderRelay(
  profile: Profile,
  row: AttachmentRow,
): { address: string; relayId: RelayId | null } {
  const found =
    row.messageId !== null
      ? profile.db
          .prepare(
            `SELECT k.relay AS address, k.relay_id AS relayId FROM messages m
             JOIN contacts k ON k.account_id = m.sender_account WHERE m.id = ?`,
          )
          .get<{ address: string | null; relayId: RelayId | null }>([row.messageId])
      : profile.db
          .prepare(
            `SELECT g.relay AS address, g.relay_id AS relayId FROM group_messages m
             JOIN group_members g ON g.group_ref = m.group_ref AND g.account_id = m.sender_account
             WHERE m.id = ?`,
          )
          .get<{ address: string | null; relayId: RelayId | null }>([row.groupMessageId ?? -1]);
  if (!found?.address) throw new SottoError('UNKNOWN_CONTACT', 'no relay for the sender');
  return { address: found.address, relayId: found.relayId };
}

/**
 * Feeds `check` every chunk on its way to the file (more than the blob's
 * length is refused there: TAMPERED) and reports progress; stops with
 * CANCELLED between chunks once the user cancelled (returning closes the body).
 */
async function* checked(
  source: AsyncIterable<Uint8Array>,
  check: BlobCheck,
  transfer: Transfer,
  offset: number,
): AsyncGenerator<Uint8Array> {
  let done = offset;
  for await (const chunk of source) {
    transfer.check();
    check.update(chunk);
    yield chunk;
    done += chunk.length;
    transfer.progress(done);
  }
}

/** A cancelled download: its temp file goes (nothing half-written is kept) and it waits for a click. */
function declineDownload(profile: Profile, id: number): void {
  const row = attachmentById(profile.db, id);
  if (!row || row.state !== 'pending') return;
  profile.commit(undefined, (db) =>
    updateAttachment(db, id, { download_choice: 'declined', temp_name: null, transfer_offset: 0 }),
  );
  if (row.tempName) removeFiles(profile.paths.dir, { temp: [row.tempName] });
}

function failDownload(profile: Profile, row: AttachmentRow, code: string): void {
  profile.commit(undefined, (db) =>
    updateAttachment(db, row.id, { state: 'failed', error: code, temp_name: null }),
  );
  // Nothing of a refused blob is kept.
  if (row.tempName) removeFiles(profile.paths.dir, { temp: [row.tempName] });
}

function sizeOf(path: string): number {
  try {
    return statSync(path).size;
  } catch {
    return 0;
  }
}
