import { toBase64 } from '../../../shared/protocol/encoding.ts';
import type { Sql } from '../db/sqlite.ts';
import { SottoError } from '../errors.ts';
import { sendableGroup } from '../groups/group-queue.ts';
import type { Profile } from '../profile/profile.ts';
import { existsSync } from 'node:fs';
import {
  attachmentById,
  type AttachmentRow,
  type MessageRef,
  selectAttachments,
  updateAttachment,
} from './attachment-rows.ts';
import { removeFiles, tempPath } from './local-files.ts';
import { sealAgain } from './reseal.ts';
import { abortTransfer, announceEnd, isTransferring } from './transfers.ts';
import { failUpload } from './upload-job.ts';

// What the user does to one transfer: ask for a download the policy held
// back, or cancel a download or an upload. The attachment is named by id and
// by the conversation the window shows: an id of another conversation is as
// unknown as one that does not exist (UNKNOWN_ATTACHMENT either way).

/** The conversation the window shows: a 1:1 conversation id or a group's local ref. */
export type ConversationScope = { readonly conversationId: number } | { readonly groupRef: number };

/** The attachment `id` if it belongs to `scope`; UNKNOWN_ATTACHMENT otherwise. */
function attachmentIn(profile: Profile, scope: ConversationScope, id: number): AttachmentRow {
  const row = attachmentById(profile.db, id);
  const owner =
    row?.messageId !== null && row?.messageId !== undefined
      ? 'conversationId' in scope &&
        profile.db
          .prepare('SELECT conversation_id FROM messages WHERE id = ?', { pluck: true })
          .get([row.messageId]) === scope.conversationId
      : row?.groupMessageId !== null && row?.groupMessageId !== undefined
        ? 'groupRef' in scope &&
          profile.db
            .prepare('SELECT group_ref FROM group_messages WHERE id = ?', { pluck: true })
            .get([row.groupMessageId]) === scope.groupRef
        : false;
  if (!row || !owner) throw new SottoError('UNKNOWN_ATTACHMENT');
  return row;
}

/**
 * The user clicked Download: the row downloads on the next pass whatever the
 * policy (the caller starts one). Only an incoming attachment can be asked
 * for; one already stored or failed for good (R5) is left as it is. Returns
 * true if a pass should run.
 */
export function requestDownload(profile: Profile, scope: ConversationScope, id: number): boolean {
  const row = attachmentIn(profile, scope, id);
  if (row.outgoing) throw new SottoError('UNKNOWN_ATTACHMENT', 'not an incoming attachment');
  if (row.state !== 'pending') return false;
  if (row.downloadChoice !== 'requested' || row.attempts > 0)
    profile.commit(undefined, (db) =>
      updateAttachment(db, id, { download_choice: 'requested', next_attempt_at: 0, attempts: 0 }),
    );
  return true;
}

/**
 * The user clicked Cancel. A running transfer is aborted (its job cleans up:
 * download-job.ts, upload-job.ts); a download still waiting for its turn goes
 * back to waiting for a click, an upload waiting for the relay fails as
 * cancelled. Returns false when there is nothing to cancel (finished or failed).
 */
export function cancelTransfer(profile: Profile, scope: ConversationScope, id: number): boolean {
  const row = attachmentIn(profile, scope, id);
  const active = row.outgoing ? row.state === 'uploading' : row.state === 'pending';
  if (!active) return false;
  if (isTransferring(profile, id)) return abortTransfer(profile, id);
  if (row.outgoing) {
    failUpload(profile, row, new SottoError('CANCELLED', 'upload cancelled'));
  } else {
    profile.commit(undefined, (db) =>
      updateAttachment(db, id, {
        download_choice: 'declined',
        temp_name: null,
        transfer_offset: 0,
      }),
    );
    if (row.tempName) removeFiles(profile.paths.dir, { temp: [row.tempName] });
  }
  announceEnd(profile, { attachmentId: id, direction: row.outgoing ? 'upload' : 'download' });
  return true;
}

/** The 1:1 message of an outgoing attachment if it failed (a cancel or a refusal), for its status event. */
export function failedMessageOf(
  profile: Profile,
  attachmentId: number,
): { messageId: number; conversationId: number } | undefined {
  return profile.db
    .prepare(
      `SELECT m.id AS messageId, m.conversation_id AS conversationId FROM attachments a
       JOIN messages m ON m.id = a.message_id WHERE a.id = ? AND m.status = 'failed'`,
    )
    .get<{ messageId: number; conversationId: number }>([attachmentId]);
}

/**
 * Retry of a 1:1 message whose upload the user cancelled: its cancelled rows
 * upload again and the message is queued. A row that kept its relay
 * reservation resumes at the relay's offset (its bytes re-derived from the
 * stored copy, or from an older version's ciphertext temp file); one without
 * (a backup restore brings back the stored copy, never an upload in transit)
 * is sealed again from its stored copy (reseal.ts: a new transport key and
 * digest unless its blob is re-derivable), as a new upload.
 * False if the message has no cancelled upload (the caller retries it as a
 * text message); ATTACHMENT_NOT_FOUND if a row has neither (Delete remains);
 * INVALID_INPUT if the message was deleted meanwhile (nothing is queued).
 */
export function retryCancelledUpload(profile: Profile, messageId: number): Promise<boolean> {
  return resumeCancelled(profile, { messageId });
}

/**
 * retryCancelledUpload for a group message: once its uploads complete, the
 * upload job fans the one pointer out to the group's current members
 * (upload-queue.ts queueUploadedGroupMessages). Nothing was sent to anyone
 * before: a group message is queued only when all its uploads completed.
 */
export function retryCancelledGroupUpload(
  profile: Profile,
  groupMessageId: number,
): Promise<boolean> {
  return resumeCancelled(profile, { groupMessageId });
}

async function resumeCancelled(profile: Profile, ref: MessageRef): Promise<boolean> {
  const cancelled = cancelledUploads(profile, ref);
  if (cancelled.length === 0) return false;
  // A group that has since refused us (we left, were removed, a member's safety
  // number changed) refuses the retry as it would a new message: before any work.
  mayWriteTo(profile.db, ref);
  const dir = profile.paths.dir;
  const [table, id] =
    'messageId' in ref ? ['messages', ref.messageId] : ['group_messages', ref.groupMessageId];
  // Deleted while its files were sealed again (the delete took the rows and
  // the stored copy being read): nothing to queue, as for an id that is not there.
  const gone = () => new SottoError('INVALID_INPUT', 'no failed message to retry');
  const exists = () =>
    profile.db.prepare(`SELECT 1 FROM ${table} WHERE id = ?`, { pluck: true }).get([id]) !==
    undefined;
  try {
    for (const row of cancelled) if (!resumable(dir, row)) await sealAgain(profile, row);
  } catch (error) {
    throw exists() ? error : gone();
  }
  profile.commit(undefined, (db) => {
    mayWriteTo(db, ref);
    const requeued = db
      .prepare(`UPDATE ${table} SET status = 'queued' WHERE id = ? AND status = 'failed'`)
      .run([id]).changes;
    if (requeued === 0) throw gone();
    for (const row of cancelledUploads(profile, ref))
      updateAttachment(db, row.id, {
        state: 'uploading',
        error: null,
        attempts: 0,
        next_attempt_at: 0,
      });
  });
  return true;
}

/** For a group message: its group's refusals for a new message (sendableGroup). */
function mayWriteTo(db: Sql, ref: MessageRef): void {
  if (!('groupMessageId' in ref)) return;
  const groupId = db
    .prepare(
      'SELECT g.group_id FROM group_messages m JOIN groups g ON g.id = m.group_ref WHERE m.id = ?',
      { pluck: true },
    )
    .get<Uint8Array<ArrayBuffer>>([ref.groupMessageId]);
  // A message deleted meanwhile has no group: the caller's own check refuses it.
  if (groupId !== undefined) sendableGroup(db, toBase64(groupId));
}

function cancelledUploads(profile: Profile, ref: MessageRef): AttachmentRow[] {
  const [column, id] =
    'messageId' in ref ? ['message_id', ref.messageId] : ['group_message_id', ref.groupMessageId];
  return selectAttachments(profile.db, `${column} = ? AND outgoing = 1`, [id]).filter(
    (r) => r.state === 'failed' && r.error === 'CANCELLED',
  );
}

/** Whether a cancelled row's upload goes on where it stopped: an older version's temp file, or a reservation. */
function resumable(dir: string, row: AttachmentRow): boolean {
  return row.tempName ? existsSync(tempPath(dir, row.tempName)) : row.uploadToken !== null;
}
