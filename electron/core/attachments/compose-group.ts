import { MAX_ATTACHMENTS_PER_MESSAGE } from '../../../shared/protocol/attachment.ts';
import { MAX_BODY_CHARS } from '../../../shared/protocol/content.ts';
import { SottoError } from '../errors.ts';
import type { QueuedGroupMessage } from '../groups/group-queue.ts';
import { loadGroup } from '../groups/group-store.ts';
import { assertNoChangedMember } from '../groups/member-identity.ts';
import { newMessageId } from '../messaging/message-id.ts';
import type { Profile } from '../profile/profile.ts';
import { insertAttachment } from './attachment-rows.ts';
import { assertFits, discard, fileSize, type OutgoingFile, prepareFiles } from './compose.ts';

// Composing a group message with files: one upload per file, one pointer in
// the one group message every member decrypts (issue 13: "one upload, one
// pointer"). Like 1:1, the message is queued only once the uploads completed.

/**
 * Stores a group message with `files` and its uploads (see
 * queueAttachmentMessage); UNKNOWN_GROUP, NOT_GROUP_MEMBER as queueGroupText.
 */
export async function queueGroupAttachmentMessage(
  profile: Profile,
  groupId: string,
  files: readonly OutgoingFile[],
  caption = '',
  now = Date.now(),
): Promise<QueuedGroupMessage> {
  if (files.length === 0 || files.length > MAX_ATTACHMENTS_PER_MESSAGE)
    throw new SottoError('INVALID_INPUT', 'attachment count');
  if (caption.length > MAX_BODY_CHARS) throw new SottoError('MESSAGE_TOO_LONG');
  const sizes = files.map((file) => fileSize(file.path));
  const self = profile.account;
  const before = loadGroup(profile.db, groupId);
  if (!before) throw new SottoError('UNKNOWN_GROUP');
  if (before.standing !== 'member') throw new SottoError('NOT_GROUP_MEMBER');
  assertNoChangedMember(before);
  const prepared = await prepareFiles(profile, files, sizes);
  try {
    assertFits(caption, prepared);
    return profile.commit(undefined, (db) => {
      const group = loadGroup(db, groupId);
      if (!group) throw new SottoError('UNKNOWN_GROUP');
      if (group.standing !== 'member') throw new SottoError('NOT_GROUP_MEMBER');
      const uuid = newMessageId(now);
      const last = Number(
        db
          .prepare(
            'SELECT max(sent_at) FROM group_messages WHERE sender_account = ? AND sender_device = ?',
            { pluck: true },
          )
          .get([self.accountId, self.deviceId]) ?? 0,
      );
      const sentAt = Math.max(now, last + 1);
      const { lastInsertRowid } = db
        .prepare(
          `INSERT INTO group_messages (uuid, group_ref, outgoing, sender_account, sender_device, sent_at, received_at, body, status)
           VALUES (?, ?, 1, ?, ?, ?, ?, ?, 'queued')`,
        )
        .run([uuid, group.ref, self.accountId, self.deviceId, sentAt, now, caption]);
      const id = Number(lastInsertRowid);
      prepared.forEach((file, position) =>
        insertAttachment(
          db,
          { groupMessageId: id },
          { position, outgoing: true, state: 'uploading', ...file },
          now,
        ),
      );
      return { id, uuid, groupRef: group.ref, sentAt };
    });
  } catch (error) {
    discard(profile, prepared);
    throw error;
  }
}
