import { createHash } from 'node:crypto';
import type { AccountId } from '../../../shared/protocol/account-id.ts';
import { attachmentById, type AttachmentRow } from '../attachments/attachment-rows.ts';
import { openStoredCopy, type StoredCopy, storedCopyOf } from '../attachments/stored-copy.ts';
import type { Sql } from '../db/sqlite.ts';
import { SottoError } from '../errors.ts';
import type { Profile } from '../profile/profile.ts';
import {
  ATTACHMENT_DATA_BYTES,
  type AttachmentDataRecord,
  type AttachmentRecord,
} from './format/attachment-records.ts';
import type { RecordWriter } from './format/writer.ts';
import { throwIfCancelled } from './progress.ts';

// Writing attachments into a backup (docs/backup-format.md#attachments): after
// every message and group message, each attachment row as an `attachment`
// record, then its stored copy decrypted and cut into `attachmentData`
// records. One 48 KiB piece is in memory at a time, whatever the file size.

/** The attachments an export will carry: their row ids and how many records they make. */
export interface AttachmentPlan {
  readonly ids: readonly number[];
  readonly dataRecords: number;
}

/** Reads which attachments to carry (every row) and counts their records, for the manifest. */
export function planAttachments(db: Sql): AttachmentPlan {
  const rows = db
    .prepare(
      `SELECT id, size, local_name IS NOT NULL AND local_key IS NOT NULL
         AND (local_digest IS NOT NULL OR local_format = 1) AS stored
       FROM attachments ORDER BY id`,
    )
    .all<{ id: number; size: number; stored: number }>();
  return {
    ids: rows.map((r) => r.id),
    dataRecords: rows.reduce(
      (n, r) => n + (r.stored === 1 ? Math.ceil(r.size / ATTACHMENT_DATA_BYTES) : 0),
      0,
    ),
  };
}

/** Writes every planned attachment, record then data; a row or copy that vanished meanwhile is INTERNAL. */
export async function writeAttachments(
  profile: Profile,
  out: RecordWriter,
  plan: AttachmentPlan,
  signal?: AbortSignal,
): Promise<void> {
  for (const id of plan.ids) {
    throwIfCancelled(signal);
    profile.assertUsable();
    const row = attachmentById(profile.db, id);
    if (!row) throw new SottoError('INTERNAL', 'attachments changed during export');
    const stored = storedCopyOf(profile.paths.dir, row);
    // The header carries the plaintext's hash, so the copy is read once for it (checked) and once to write.
    const sha256 = stored ? await plaintextHash(stored) : null;
    await out.record('attachment', recordOf(profile.db, row, sha256));
    if (!stored) continue;
    const piece = Buffer.alloc(ATTACHMENT_DATA_BYTES);
    let filled = 0;
    let offset = 0;
    const flush = async () => {
      const record: AttachmentDataRecord = {
        type: 'attachmentData',
        attachment: row.id,
        offset,
        data: piece.toString('base64', 0, filled),
      };
      await out.record('attachmentData', record);
      offset += filled;
      filled = 0;
    };
    // Checked again as it is read: the file may have changed since it was hashed.
    for await (const chunk of openStoredCopy(stored)) {
      for (let at = 0; at < chunk.length;) {
        const take = Math.min(chunk.length - at, ATTACHMENT_DATA_BYTES - filled);
        chunk.copy(piece, filled, at, at + take);
        filled += take;
        at += take;
        if (filled === ATTACHMENT_DATA_BYTES) await flush();
      }
    }
    if (filled > 0) await flush();
  }
}

/** SHA-256 of a stored copy's plaintext; ATTACHMENT_TAMPERED if the copy fails its check (no backup carries altered bytes). */
async function plaintextHash(copy: StoredCopy): Promise<string> {
  const hash = createHash('sha256');
  try {
    for await (const chunk of openStoredCopy(copy)) hash.update(chunk);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT')
      throw new SottoError('INTERNAL', 'attachments changed during export');
    throw error;
  }
  return hash.digest('hex');
}

/** The record of a row: where it belongs (its message's uuid and sender), what state it reached, its pointer. */
function recordOf(db: Sql, row: AttachmentRow, sha256: string | null): AttachmentRecord {
  const messageOf = (table: string, id: number | null) =>
    id === null
      ? undefined
      : db
          .prepare(`SELECT uuid, sender_account AS sender FROM ${table} WHERE id = ?`)
          .get<{ uuid: string; sender: AccountId }>([id]);
  const message = messageOf('messages', row.messageId);
  const groupMessage = messageOf('group_messages', row.groupMessageId);
  const owner = message ?? groupMessage;
  if (owner === undefined) throw new SottoError('INTERNAL', 'attachments changed during export');
  return {
    type: 'attachment',
    id: row.id,
    message: message?.uuid ?? null,
    groupMessage: groupMessage?.uuid ?? null,
    senderAccount: owner.sender,
    position: row.position,
    outgoing: row.outgoing,
    state: carriedState(row, sha256 !== null),
    error: row.state === 'failed' ? (row.error ?? 'ATTACHMENT_NOT_FOUND') : null,
    blobId: row.blobId,
    key: row.transportKey.toString('base64'),
    digest: row.digest ? row.digest.toString('base64') : null,
    size: row.size,
    contentType: row.contentType,
    fileName: row.fileName,
    width: row.width,
    height: row.height,
    preview: row.preview,
    durationMs: row.durationMs,
    sha256,
  };
}

function carriedState(row: AttachmentRow, stored: boolean): AttachmentRecord['state'] {
  if (row.state === 'failed') return 'failed';
  if (!row.outgoing) return stored ? 'done' : 'pending';
  return row.state === 'uploaded' ? 'uploaded' : 'unsent';
}
