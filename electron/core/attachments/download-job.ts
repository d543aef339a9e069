import { rmSync, statSync } from 'node:fs';
import { ciphertextSize } from '../../../shared/protocol/attachment.ts';
import type { RelayId } from '../../../shared/relay/protocol.ts';
import { hasCode, SottoError } from '../errors.ts';
import { log } from '../log.ts';
import type { Profile } from '../profile/profile.ts';
import { getSetting } from '../profile/settings.ts';
import { backoffMs } from '../sync/backoff.ts';
import { homeRelayId } from '../sync/home-relay-setting.ts';
import type { BlobDownloads } from '../sync/blobs.ts';
import { BlobCheck } from './blob-check.ts';
import { BlobOpener } from './blob-opener.ts';
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
  type LocalCopy,
  randomFileName,
  removeFiles,
  tempPath,
} from './local-files.ts';
import { LocalStage } from './local-stage.ts';
import { startTransfer, type Transfer } from './transfers.ts';

// The download job: every incoming attachment still 'pending' is fetched from
// the sender's relay as the contact record names it, or this profile's own
// relay for someone who wrote first without one (never from an address in a
// message), appended to a ciphertext temp file that is the resume point,
// and in the same pass hashed for the check (length, digest, MAC), decrypted
// and sealed under a fresh local key into a staged stored copy (no plaintext
// touches the disk). The staged copy moves into attachments/ and its row is
// committed only once the check passed; a resumed download passes the prefix
// it holds again first, so the check always covers the whole blob. A check that fails is final (ATTACHMENT_TAMPERED, never
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
  const stage = await LocalStage.open(dir, row.size);
  let stored: LocalCopy;
  try {
    const blob = new BlobPass(row, row.digest, stage, transfer);
    // A resumed download first passes the prefix it holds, then what the relay sends.
    for await (const chunk of readChunks(path, 0, offset)) await blob.take(chunk);
    transfer.progress(offset);
    if (offset < length) {
      const relay = senderRelay(profile, row);
      const download = await downloadsFor(relay.address, relay.relayId).download(
        row.blobId,
        offset,
      );
      // The pointer's size fixes the blob's length: anything else is refused before a byte is read.
      if (download.length !== length) throw new SottoError('ATTACHMENT_TAMPERED', 'blob length');
      // No fsync: the temp file is only a resume point, and the check covers whatever survived a crash.
      await writeChunks(blob.passing(download.body, offset), path, {
        flags: 'a',
        start: offset,
        sync: false,
      });
      if (sizeOf(path) !== length) throw new SottoError('RELAY_UNAVAILABLE', 'download cut');
    }
    await blob.finish();
    // Reported unthrottled: the bar shows the end while the stored copy is flushed.
    transfer.progress(length, true);
    await stage.finish();
    transfer.check(); // a cancel up to here still wins: the copy is discarded below
    stored = stage.keep();
  } catch (error) {
    await stage.discard();
    throw error;
  }
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

/**
 * One pass over a blob's bytes in order: hashed for the check (length,
 * digest, MAC), decrypted and sealed into the stored copy being staged,
 * CANCELLED between chunks once the user cancelled. Nothing it staged is
 * kept unless `finish` passes.
 */
class BlobPass {
  private readonly check: BlobCheck;
  private readonly opener: BlobOpener;

  constructor(
    row: AttachmentRow,
    digest: Uint8Array,
    private readonly stage: LocalStage,
    private readonly transfer: Transfer,
  ) {
    this.check = new BlobCheck({ size: row.size, digest, key: row.transportKey });
    this.opener = new BlobOpener(row.size, row.transportKey);
  }

  /** The next bytes of the blob (more than its length is ATTACHMENT_TAMPERED at once). */
  async take(chunk: Uint8Array): Promise<void> {
    this.transfer.check();
    this.check.update(chunk);
    await this.stage.write(this.opener.update(chunk));
  }

  /** The chunks of `source` passed on after `take`, with progress from `offset`. */
  async *passing(source: AsyncIterable<Uint8Array>, offset: number): AsyncGenerator<Uint8Array> {
    let done = offset;
    for await (const chunk of source) {
      await this.take(chunk);
      yield chunk;
      done += chunk.length;
      this.transfer.progress(done);
    }
  }

  /** The check (length, digest, MAC), then the padding; the last plaintext goes to the stage. */
  async finish(): Promise<void> {
    this.check.finish();
    await this.stage.write(this.opener.finish());
  }
}

/**
 * The relay on the sender's contact record (1:1) or member card (group);
 * for someone who wrote first without an invite naming one, this profile's
 * own relay (where their answers go too: docs/message-format.md).
 */
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
  if (found?.address) return { address: found.address, relayId: found.relayId };
  const own = getSetting(profile.db, 'relay');
  if (!own) throw new SottoError('UNKNOWN_CONTACT', 'no relay for the sender');
  return { address: own, relayId: homeRelayId(profile) ?? null };
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
