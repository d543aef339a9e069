import { existsSync, renameSync, rmSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { SottoError } from '../errors.ts';
import type { Profile } from '../profile/profile.ts';
import { type DownloadRules, DOWNLOAD_EVERYTHING, mayDownload } from './download-policy.ts';
import { gathered, writeChunks } from './file-chunks.ts';
import { attachmentById, type AttachmentState, selectAttachments } from './attachment-rows.ts';
import { presentFiles, randomFileName, removeFiles } from './local-files.ts';
import { openStoredCopy, storedCopyOf } from './stored-copy.ts';

// Reading stored attachments: the list a conversation shows (never keys or
// paths) and writing one decrypted copy where the user asks.

/** An attachment as the history and the CLI show it: no key, no digest, no path. */
export interface AttachmentSummary {
  readonly id: number;
  readonly messageId: number | null;
  readonly groupMessageId: number | null;
  readonly outgoing: boolean;
  readonly contentType: string;
  readonly fileName: string | null;
  readonly size: number;
  readonly width: number | null;
  readonly height: number | null;
  /** The sender's tiny blurred JPEG (base64), if it sent one. */
  readonly preview: string | null;
  /** The playing time the sender's pointer stated (ms), if any. */
  readonly durationMs: number | null;
  readonly state: AttachmentState;
  /** The error code of a failed transfer. */
  readonly error: string | null;
  /** Incoming, pending, and held back until the user asks (download-policy.ts). */
  readonly waiting: boolean;
}

/** The attachments of some messages (1:1 message ids or group message ids), in message order then position. */
export function attachmentsOf(
  profile: Profile,
  ids: { messageIds?: readonly number[]; groupMessageIds?: readonly number[] },
  rules: DownloadRules = { policy: DOWNLOAD_EVERYTHING, network: 'unknown' },
): AttachmentSummary[] {
  const where = (column: string, list: readonly number[]) =>
    list.length > 0 && list.every(Number.isSafeInteger)
      ? selectAttachments(
          profile.db,
          `${column} IN (${list.map(() => '?').join(',')}) ORDER BY ${column}, position`,
          list,
        )
      : [];
  return [
    ...where('message_id', ids.messageIds ?? []),
    ...where('group_message_id', ids.groupMessageIds ?? []),
  ].map((row) => ({
    id: row.id,
    messageId: row.messageId,
    groupMessageId: row.groupMessageId,
    outgoing: row.outgoing,
    contentType: row.contentType,
    fileName: row.fileName,
    size: row.size,
    width: row.width,
    height: row.height,
    preview: row.preview,
    durationMs: row.durationMs,
    state: row.state,
    error: row.error,
    waiting: !row.outgoing && row.state === 'pending' && !mayDownload(rules, row),
  }));
}

/**
 * Decrypts a stored attachment to `out` (staged beside it and renamed, so
 * `out` is never half written). UNKNOWN_ATTACHMENT for an id without a stored
 * copy (not downloaded yet, failed); INVALID_INPUT when `out` exists and
 * `force` is not set; ATTACHMENT_TAMPERED when the stored copy was altered
 * (nothing is written).
 */
export async function saveAttachment(
  profile: Profile,
  id: number,
  out: string,
  options: { force?: boolean } = {},
): Promise<{ size: number }> {
  const row = attachmentById(profile.db, id);
  const copy = row && storedCopyOf(profile.paths.dir, row);
  if (!row || !copy) throw new SottoError('UNKNOWN_ATTACHMENT');
  if (!options.force && existsSync(out)) throw new SottoError('INVALID_INPUT', 'file exists');
  const staged = join(dirname(out), `.${randomFileName('.sotto-save')}`);
  try {
    // Stored copies open in 64 KiB pieces: written 1 MiB at a time.
    await writeChunks(gathered(openStoredCopy(copy)), staged, { flags: 'wx', sync: false });
    renameSync(staged, out);
  } catch (error) {
    rmSync(staged, { force: true });
    if (error instanceof SottoError) throw error;
    if ((error as NodeJS.ErrnoException).code === 'ENOENT')
      throw new SottoError('UNKNOWN_ATTACHMENT', 'stored copy missing');
    throw new SottoError('INVALID_INPUT', 'cannot write there');
  }
  return { size: row.size };
}

/**
 * Deletes files no row names (a crash between writing a file and committing
 * its row, or between deleting a row and its file) and repairs rows whose
 * stored copy is gone: an incoming one goes back to 'pending' (downloaded
 * again while the relay keeps it), an outgoing one just loses its copy.
 * Runs at profile open, before any transfer job.
 */
export function cleanAttachmentOrphans(profile: Profile): { files: number; rows: number } {
  const present = presentFiles(profile.paths.dir);
  const named = profile.db
    .prepare('SELECT local_name AS localName, temp_name AS tempName FROM attachments')
    .all<{ localName: string | null; tempName: string | null }>();
  const locals = new Set(named.flatMap((n) => (n.localName ? [n.localName] : [])));
  const temps = new Set(named.flatMap((n) => (n.tempName ? [n.tempName] : [])));
  const orphanLocal = present.local.filter((name) => !locals.has(name));
  const orphanTemp = present.temp.filter((name) => !temps.has(name));
  removeFiles(profile.paths.dir, { local: orphanLocal, temp: orphanTemp });
  const onDisk = new Set(present.local);
  const lost = selectAttachments(profile.db, 'local_name IS NOT NULL').filter(
    (row) => !onDisk.has(row.localName!),
  );
  if (lost.length > 0) {
    profile.commit(undefined, (db) => {
      const update = db.prepare(
        `UPDATE attachments SET local_name = NULL, local_key = NULL, local_digest = NULL,
           state = CASE WHEN outgoing = 0 THEN 'pending' ELSE state END, next_attempt_at = 0 WHERE id = ?`,
      );
      for (const row of lost) update.run([row.id]);
    });
  }
  return { files: orphanLocal.length + orphanTemp.length, rows: lost.length };
}
