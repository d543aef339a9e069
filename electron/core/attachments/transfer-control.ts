import { SottoError } from '../errors.ts';
import type { Profile } from '../profile/profile.ts';
import { existsSync } from 'node:fs';
import {
  attachmentById,
  type AttachmentRow,
  selectAttachments,
  updateAttachment,
} from './attachment-rows.ts';
import { removeFiles, tempPath } from './local-files.ts';
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
 * Retry of a message whose upload the user cancelled: its cancelled rows
 * upload again from their kept ciphertext (resuming at the relay's offset) and
 * the message is queued. False if the message has no cancelled upload (the
 * caller retries it as a text message), or one whose ciphertext is gone.
 */
export function retryCancelledUpload(profile: Profile, messageId: number): boolean {
  const rows = selectAttachments(profile.db, 'message_id = ? AND outgoing = 1', [messageId]);
  const cancelled = rows.filter((r) => r.state === 'failed' && r.error === 'CANCELLED');
  if (cancelled.length === 0) return false;
  const dir = profile.paths.dir;
  if (cancelled.some((r) => !r.tempName || !existsSync(tempPath(dir, r.tempName))))
    throw new SottoError('ATTACHMENT_NOT_FOUND', 'cancelled upload without its ciphertext');
  profile.commit(undefined, (db) => {
    for (const row of cancelled)
      updateAttachment(db, row.id, {
        state: 'uploading',
        error: null,
        attempts: 0,
        next_attempt_at: 0,
      });
    db.prepare("UPDATE messages SET status = 'queued' WHERE id = ? AND status = 'failed'").run([
      messageId,
    ]);
  });
  return true;
}
