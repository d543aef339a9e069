import type { Migration } from '../migration.ts';

/**
 * Attachments (issue 13, docs/storage.md#attachments). One row per file of a
 * message, 1:1 or group, in either direction: the pointer as the message
 * carries it (blob id, transport key, digest, size, labels), where the
 * transfer stands (persisted so uploads and downloads resume after a crash),
 * and the stored copy: a file under <profile>/attachments/ with a random
 * name, encrypted under its own local key, which exists only here.
 *
 * state:
 *   outgoing: 'uploading' (ciphertext in upload_temp, blob reserved or not yet)
 *             -> 'uploaded' (the relay holds the whole blob; the message may go out)
 *             -> 'failed' (refused for good: error says why)
 *   incoming: 'pending' (download not started or cut; download_temp holds the prefix)
 *             -> 'done' (stored: local_name and local_key set)
 *             -> 'failed' (ATTACHMENT_TAMPERED, ATTACHMENT_NOT_FOUND, ATTACHMENT_TOO_LARGE: never retried)
 */
export const migration0011: Migration = {
  version: 11,
  name: 'attachments',
  up(db) {
    db.exec(`
      CREATE TABLE attachments (
        id INTEGER PRIMARY KEY AUTOINCREMENT,
        message_id INTEGER REFERENCES messages(id) ON DELETE CASCADE,
        group_message_id INTEGER REFERENCES group_messages(id) ON DELETE CASCADE,
        position INTEGER NOT NULL CHECK (position >= 0),
        outgoing INTEGER NOT NULL CHECK (outgoing IN (0, 1)),
        state TEXT NOT NULL CHECK (state IN ('uploading', 'uploaded', 'pending', 'done', 'failed')),
        error TEXT,
        -- The pointer (shared/protocol/attachment.ts): blob_id is NULL until the upload is reserved.
        blob_id TEXT,
        transport_key BLOB NOT NULL CHECK (length(transport_key) = 64),
        digest BLOB CHECK (digest IS NULL OR length(digest) = 32),
        size INTEGER NOT NULL CHECK (size >= 0),
        content_type TEXT NOT NULL,
        file_name TEXT,
        width INTEGER,
        height INTEGER,
        preview TEXT,
        -- Upload: the reserved BlobUpload and how much of it the relay acknowledged.
        upload_token TEXT,
        upload_length INTEGER,
        upload_expires_at INTEGER,
        transfer_offset INTEGER NOT NULL DEFAULT 0,
        -- Ciphertext being uploaded or downloaded (a name under attachments/tmp/, never plaintext).
        temp_name TEXT,
        -- The stored copy: file name under attachments/ and its own 64-byte key and digest.
        local_name TEXT UNIQUE,
        local_key BLOB CHECK (local_key IS NULL OR length(local_key) = 64),
        local_digest BLOB CHECK (local_digest IS NULL OR length(local_digest) = 32),
        attempts INTEGER NOT NULL DEFAULT 0,
        next_attempt_at INTEGER NOT NULL DEFAULT 0,
        created_at INTEGER NOT NULL,
        CHECK ((message_id IS NULL) <> (group_message_id IS NULL))
      ) STRICT;
      CREATE INDEX attachments_by_message ON attachments(message_id, position) WHERE message_id IS NOT NULL;
      CREATE INDEX attachments_by_group_message ON attachments(group_message_id, position)
        WHERE group_message_id IS NOT NULL;
      CREATE INDEX attachments_to_transfer ON attachments(state, next_attempt_at)
        WHERE state IN ('uploading', 'pending');
    `);
  },
};
