import type { AccountId } from '../../../shared/protocol/account-id.ts';
import { encodeContent, MAX_CONTENT_BYTES } from '../../../shared/protocol/content.ts';
import { toBase64 } from '../../../shared/protocol/encoding.ts';
import { ensureConversation } from '../contacts/contacts.ts';
import { assertCanSend } from '../crypto/trust.ts';
import { SottoError } from '../errors.ts';
import { messageInsert } from '../history/message-insert.ts';
import { indexNewMessages } from '../history/search-index.ts';
import { nextSentAt } from '../messaging/clock.ts';
import { newMessageId } from '../messaging/message-id.ts';
import type { QueuedMessage } from '../messaging/outbox.ts';
import type { Profile } from '../profile/profile.ts';
import type { Sql } from '../db/sqlite.ts';
import { insertAttachment, type MessageRef, updateAttachment } from './attachment-rows.ts';
import { type ComposeOptions, discard, type Prepared, prepareFiles } from './compose-seal.ts';
import { checkedSizes, type OutgoingFile } from './outgoing-file.ts';

// Composing a message with files: each file is read once and encrypted twice
// before the message row exists, once for the profile (the stored copy, on
// disk) and once for the relay (the transport blob, whose digest the row
// keeps; its bytes are written nowhere: its IV follows from its key, so the
// upload job re-derives them from the stored copy, blob-source.ts). Given the
// home relay's uploads, a large file's blob is uploaded as it is sealed
// (sealing-upload.ts) and its reservation is committed with the row. The
// message is queued for sending only when every upload is complete
// (upload-job.ts): nothing goes out pointing at a blob that is not there yet (R2).
//
// The parts: the files and their checks (outgoing-file.ts), their sealing
// (compose-seal.ts), and here the message, its rows and the size rule, which
// a group message with files (compose-group.ts) shares.

/**
 * Stores a message with `files` (and `caption` as its body) and its uploads,
 * in one transaction after the files were encrypted; the upload job sends it.
 * ATTACHMENT_TOO_LARGE for a file over MAX_ATTACHMENT_BYTES, INVALID_INPUT
 * for anything that is not a readable file, and the refusals of queueText.
 */
export async function queueAttachmentMessage(
  profile: Profile,
  accountId: AccountId,
  files: readonly OutgoingFile[],
  caption = '',
  now = Date.now(),
  options: ComposeOptions = {},
): Promise<QueuedMessage> {
  const sizes = checkedSizes(files, caption);
  assertCanSend(profile, accountId);
  const prepared = await prepareFiles(profile, files, sizes, options);
  try {
    assertFits(caption, prepared);
    return profile.commit(undefined, (db) => {
      const contact = db
        .prepare('SELECT blocked FROM contacts WHERE account_id = ?')
        .get<{ blocked: number }>([accountId]);
      if (!contact) throw new SottoError('UNKNOWN_CONTACT');
      if (contact.blocked === 1) throw new SottoError('CONTACT_BLOCKED');
      const uuid = newMessageId(now);
      const sentAt = nextSentAt(db, profile.account.accountId, profile.account.deviceId, now);
      const conversationId = ensureConversation(db, accountId, now);
      const id = messageInsert(db)({
        uuid,
        conversationId,
        outgoing: true,
        senderAccount: profile.account.accountId,
        senderDevice: profile.account.deviceId,
        sentAt,
        receivedAt: now,
        body: caption,
        status: 'queued',
      });
      if (id === undefined) throw new SottoError('INTERNAL', 'message id collision');
      insertPrepared(db, { messageId: id }, prepared, now);
      indexNewMessages(db);
      db.prepare(
        'UPDATE conversations SET last_message_at = max(coalesce(last_message_at, 0), ?), draft = NULL WHERE id = ?',
      ).run([sentAt, conversationId]);
      return { id, uuid, conversationId, sentAt };
    });
  } catch (error) {
    discard(profile, prepared);
    throw error;
  }
}

/** Inserts the rows of prepared attachments to send, with the reservations of their early uploads. */
export function insertPrepared(
  db: Sql,
  ref: MessageRef,
  prepared: readonly Prepared[],
  now: number,
): void {
  prepared.forEach(({ early, ...file }, position) => {
    const id = insertAttachment(
      db,
      ref,
      // Sealed just now under the IV its key derives: the upload job can make the blob again.
      { position, outgoing: true, state: 'uploading', rederivable: true, ...file },
      now,
    );
    if (!early) return;
    updateAttachment(db, id, {
      blob_id: early.upload.blobId,
      upload_token: early.upload.uploadToken,
      upload_length: early.upload.length,
      upload_expires_at: early.upload.expiresAt,
      transfer_offset: early.offset,
    });
  });
}

/** The encoded message must fit MAX_CONTENT_BYTES with its pointers (the one size rule, checked at compose). */
export function assertFits(caption: string, prepared: readonly Prepared[]): void {
  const pointers = prepared.map((p) => ({
    ...p.pointer,
    blobId: 'A'.repeat(22),
    key: toBase64(p.transportKey),
    digest: toBase64(p.digest),
  }));
  const payload = encodeContent({
    v: 1,
    type: 'text',
    id: '00000000-0000-4000-8000-000000000000',
    sentAt: Number.MAX_SAFE_INTEGER,
    body: caption,
    name: 'x'.repeat(128),
    token: toBase64(new Uint8Array(16)),
    attachments: pointers,
  });
  if (payload.length > MAX_CONTENT_BYTES) throw new SottoError('MESSAGE_TOO_LONG');
}
