import type { AccountId } from '../../../shared/protocol/account-id.ts';
import { type Content, encodeContent } from '../../../shared/protocol/content.ts';
import { toBase64 } from '../../../shared/protocol/encoding.ts';
import { ownDeliveryToken } from '../contacts/tokens.ts';
import { enqueueGroupMessage } from '../groups/group-queue.ts';
import { loadGroupByRef } from '../groups/group-store.ts';
import { queueMessageContent } from '../messaging/outbox.ts';
import type { Profile } from '../profile/profile.ts';
import { pointerOf, selectAttachments } from './attachment-rows.ts';

// The end of an upload pass (upload-job.ts): a composed message is queued for
// sending only once every one of its blobs is complete on the relay (R2), its
// content (caption and pointers) encoded then, with the blob ids the relay gave.

/**
 * Queues every composed message whose attachments are all uploaded and that
 * is not queued yet: its content (caption and pointers) is encoded now, with
 * the blob ids the relay gave. Returns how many were queued.
 */
export function queueUploaded(profile: Profile, now = Date.now()): number {
  const ready = profile.db
    .prepare(
      `SELECT m.id, m.uuid, m.sent_at AS sentAt, m.body, k.account_id AS recipient
       FROM messages m JOIN conversations c ON c.id = m.conversation_id JOIN contacts k ON k.id = c.contact_id
       WHERE m.outgoing = 1 AND m.status = 'queued'
         AND EXISTS (SELECT 1 FROM attachments a WHERE a.message_id = m.id)
         AND NOT EXISTS (SELECT 1 FROM attachments a WHERE a.message_id = m.id AND a.state <> 'uploaded')
         AND NOT EXISTS (SELECT 1 FROM outbox o WHERE o.message_id = m.id)`,
    )
    .all<{ id: number; uuid: string; sentAt: number; body: string; recipient: AccountId }>();
  if (ready.length === 0) return queueUploadedGroupMessages(profile, now);
  const token = toBase64(ownDeliveryToken(profile));
  profile.commit(undefined, (db) => {
    for (const message of ready) {
      const rows = selectAttachments(db, 'message_id = ? ORDER BY position', [message.id]);
      const content: Content = {
        v: 1,
        type: 'text',
        id: message.uuid,
        sentAt: message.sentAt,
        body: message.body,
        name: profile.account.displayName,
        token,
        attachments: rows.map(pointerOf),
      };
      queueMessageContent(db, message.recipient, encodeContent(content), message.id, now);
    }
  });
  return ready.length + queueUploadedGroupMessages(profile, now);
}

/** queueUploaded for group messages: one group-text with the pointers, for every member. */
function queueUploadedGroupMessages(profile: Profile, now: number): number {
  const ready = profile.db
    .prepare(
      `SELECT m.id, m.uuid, m.sent_at AS sentAt, m.body, m.group_ref AS groupRef
       FROM group_messages m
       WHERE m.outgoing = 1 AND m.status = 'queued'
         AND EXISTS (SELECT 1 FROM attachments a WHERE a.group_message_id = m.id)
         AND NOT EXISTS (SELECT 1 FROM attachments a WHERE a.group_message_id = m.id AND a.state <> 'uploaded')
         AND NOT EXISTS (SELECT 1 FROM group_outbox o WHERE o.message_id = m.id)
         AND NOT EXISTS (SELECT 1 FROM group_receipts r WHERE r.message_id = m.id)`,
    )
    .all<{ id: number; uuid: string; sentAt: number; body: string; groupRef: number }>();
  if (ready.length === 0) return 0;
  profile.commit(undefined, (db) => {
    for (const message of ready) {
      const group = loadGroupByRef(db, message.groupRef);
      if (!group) continue;
      const rows = selectAttachments(db, 'group_message_id = ? ORDER BY position', [message.id]);
      const content: Content = {
        v: 1,
        type: 'group-text',
        groupId: group.state.groupId,
        id: message.uuid,
        sentAt: message.sentAt,
        body: message.body,
        attachments: rows.map(pointerOf),
      };
      enqueueGroupMessage(
        db,
        group,
        profile.account.accountId,
        message.id,
        encodeContent(content),
        now,
      );
    }
  });
  return ready.length;
}
