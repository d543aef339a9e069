import { randomBytes } from 'node:crypto';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import {
  encryptChunks,
  newAttachmentKey,
} from '../../../electron/core/attachments/attachment-crypto.ts';
import {
  attachmentById,
  insertAttachment,
  insertIncomingAttachments,
} from '../../../electron/core/attachments/attachment-rows.ts';
import { migrate, schemaVersion } from '../../../electron/core/db/migrate.ts';
import { openKeyed, type Sql } from '../../../electron/core/db/sqlite.ts';
import { tempDir } from '../../support/profiles.ts';

// Migration 0021: attachments.blob_rederivable. A version 20 profile holds
// outgoing rows of both kinds (a blob whose IV its key derives, sealed by
// the last version 20 builds, and one with a random IV, from before), a
// fan-out retry's RECHECK_BLOB row, a cancelled upload and a received file.
// No row stores its blob's IV, so none can be shown re-derivable: all come
// out 0 and the marker is gone; every other column is unchanged. New rows:
// compose's are 1, received ones 0, and the column holds nothing but 0 or 1.

const KEY = new Uint8Array(32).fill(21);
const ME = '0a0a0a0a-0a0a-4a0a-8a0a-0a0a0a0a0a0a';
const BOB = '0b0b0b0b-0b0b-4b0b-8b0b-0b0b0b0b0b0b';
const ID = (n: number) => `0190f0f0-0000-7000-8000-${String(n).padStart(12, '0')}`;
const SIZE = 5000;

const all = (db: Sql, sql: string) => db.prepare(sql).all() as Record<string, unknown>[];

/** Key and digest of a real blob of SIZE bytes: its IV derived from the key, or `iv`. */
async function sealed(
  iv?: Buffer,
): Promise<{ key: Uint8Array<ArrayBuffer>; digest: Uint8Array<ArrayBuffer> }> {
  const key = newAttachmentKey();
  let digest: Buffer | undefined;
  for await (const chunk of encryptChunks(
    [randomBytes(SIZE)],
    SIZE,
    key,
    (s) => (digest = s.digest),
    iv,
  ))
    void chunk;
  return { key: new Uint8Array(key), digest: new Uint8Array(digest!) };
}

async function profileAt20(): Promise<Sql> {
  const db = openKeyed(join(tempDir(), 'v20.db'), KEY);
  migrate(db, 20);
  db.exec(`
    INSERT INTO contacts (account_id, display_name, created_at) VALUES ('${BOB}', 'Bob', 1);
    INSERT INTO conversations (contact_id, created_at) VALUES (1, 1);
    INSERT INTO messages (uuid, conversation_id, outgoing, sender_account, sender_device, sent_at, received_at, body, status) VALUES
      ('${ID(1)}', 1, 1, '${ME}', 1, 10, 10, 'derived', 'sent'),
      ('${ID(2)}', 1, 1, '${ME}', 1, 20, 20, 'random iv', 'sent'),
      ('${ID(3)}', 1, 1, '${ME}', 1, 30, 30, 'cancelled', 'failed'),
      ('${ID(4)}', 1, 0, '${BOB}', 1, 40, 40, 'received', 'received');
    INSERT INTO groups (group_id, title, revision, head_hash, state, created_at, updated_at)
      VALUES (zeroblob(32), 'Plans', 1, zeroblob(32), 'member', 1, 1);
    INSERT INTO group_messages (uuid, group_ref, outgoing, sender_account, sender_device, sent_at, received_at, body, status)
      VALUES ('${ID(5)}', 1, 1, '${ME}', 1, 50, 50, 'retried fan-out', 'queued');
  `);
  const insert = db.prepare(
    `INSERT INTO attachments (message_id, group_message_id, position, outgoing, state, error, blob_id,
       transport_key, digest, size, content_type, upload_token, upload_length, upload_expires_at, created_at)
     VALUES (?, ?, 0, ?, ?, ?, ?, ?, ?, ${SIZE}, 'application/pdf', ?, ?, ?, 1)`,
  );
  const derived = await sealed();
  const random = await sealed(randomBytes(16));
  const blob = (n: number) => String(n).repeat(22);
  const token = (n: number) => String(n).repeat(43);
  insert.run([
    1,
    null,
    1,
    'uploaded',
    null,
    blob(1),
    derived.key,
    derived.digest,
    token(1),
    5200,
    9e12,
  ]);
  insert.run([
    2,
    null,
    1,
    'uploaded',
    null,
    blob(2),
    random.key,
    random.digest,
    token(2),
    5200,
    9e12,
  ]);
  insert.run([
    3,
    null,
    1,
    'failed',
    'CANCELLED',
    blob(3),
    derived.key,
    derived.digest,
    null,
    null,
    null,
  ]);
  insert.run([4, null, 0, 'pending', null, blob(4), random.key, random.digest, null, null, null]);
  insert.run([
    null,
    1,
    1,
    'uploading',
    'RECHECK_BLOB',
    blob(5),
    random.key,
    random.digest,
    token(5),
    5200,
    9e12,
  ]);
  return db;
}

describe('migration 0021 (re-derivable blobs)', () => {
  it('marks no existing row re-derivable, drops the fan-out marker, and changes nothing else', async () => {
    const db = await profileAt20();
    const before = all(db, 'SELECT * FROM attachments ORDER BY id');
    migrate(db, 21);
    expect(schemaVersion(db)).toBe(21);
    const after = all(db, 'SELECT * FROM attachments ORDER BY id');
    expect(after.map((row) => row.blob_rederivable)).toEqual([0, 0, 0, 0, 0]);
    expect(after.map((row) => row.error)).toEqual([null, null, 'CANCELLED', null, null]);
    // Every other column as it was (the marker aside).
    const rest = (row: Record<string, unknown>) => ({ ...row, error: null, blob_rederivable: 0 });
    expect(after.map(rest)).toEqual(before.map(rest));
    expect(attachmentById(db, 5)).toMatchObject({ state: 'uploading', blobRederivable: false });
    db.close();
  });

  it("new rows: compose's are re-derivable, received ones are not; the column takes 0 or 1 only", async () => {
    const db = await profileAt20();
    migrate(db);
    const { key, digest } = await sealed();
    const pointer = { size: SIZE, contentType: 'image/png' };
    const composed = insertAttachment(
      db,
      { messageId: 1 },
      {
        position: 1,
        outgoing: true,
        state: 'uploading',
        pointer,
        transportKey: key,
        digest,
        rederivable: true,
      },
      2,
    );
    insertIncomingAttachments(
      db,
      { messageId: 4 },
      [
        {
          ...pointer,
          blobId: 'B'.repeat(22),
          key: Buffer.from(key).toString('base64'),
          digest: Buffer.from(digest).toString('base64'),
        },
      ],
      2,
    );
    expect(attachmentById(db, composed)?.blobRederivable).toBe(true);
    expect(
      db
        .prepare('SELECT blob_rederivable FROM attachments WHERE message_id = 4 ORDER BY id', {
          pluck: true,
        })
        .all(),
    ).toEqual([0, 0]);
    expect(() => db.exec('UPDATE attachments SET blob_rederivable = 2 WHERE id = 1')).toThrow(
      /CHECK/,
    );
    expect(() => db.exec('UPDATE attachments SET blob_rederivable = NULL WHERE id = 1')).toThrow(
      /NOT NULL/,
    );
    db.close();
  });
});
