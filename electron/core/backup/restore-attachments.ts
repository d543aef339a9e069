import { once } from 'node:events';
import { renameSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { PassThrough } from 'node:stream';
import { newAttachmentKey, sealToFiles } from '../attachments/attachment-crypto.ts';
import { AtRestSealer } from '../attachments/at-rest.ts';
import type { StoredLocally } from '../attachments/attachment-rows.ts';
import { ensureAttachmentDirs, randomFileName, removeFiles } from '../attachments/local-files.ts';
import type { Sql } from '../db/sqlite.ts';
import { fsyncDirectory } from '../fs-atomic.ts';
import type { AttachmentDataRecord, AttachmentRecord } from './format/attachment-records.ts';
import { repointRequeuedMessages } from './requeue-attachments.ts';
import { failRequeuedGroupAttachments } from './requeue-group-messages.ts';

// Restoring attachments (docs/backup-format.md#attachments). Each file with
// bytes is re-encrypted, as it streams out of the backup, under a fresh local
// key into attachments/tmp/, then renamed into attachments/ under a random
// name. Its row waits in a temporary table: the messages it belongs to are
// bulk-written with their indexes built at the very end, so rows are joined
// to their messages by sender and uuid once, after that. Until the restored
// database is swapped in, no row names the new files: a kill leaves orphans,
// which the next profile open deletes (cleanAttachmentOrphans), and a failure
// or a cancel deletes them here.

const COLUMNS = `message_uuid, group_uuid, sender_account, position, outgoing, state, error, blob_id, transport_key, digest,
  size, content_type, file_name, width, height, preview, duration_ms, local_name, local_key, local_digest, local_format`;

/**
 * Files of version 6 and older name their message by uuid alone. Such a row
 * takes the sender of the one message of its table with that uuid and
 * direction; where two senders' messages share the uuid (a member copied the
 * id) it gets none and so attaches to nothing rather than to the wrong one.
 */
const SOLE_SENDER = (table: string, column: string) =>
  `UPDATE temp.restore_attachments SET sender_account = (
     SELECT CASE WHEN count(*) = 1 THEN max(m.sender_account) END FROM ${table} m
     WHERE m.uuid = restore_attachments.${column} AND m.outgoing = restore_attachments.outgoing)
   WHERE sender_account IS NULL AND ${column} IS NOT NULL`;

/** What the attachment records did. */
export interface RestoredAttachments {
  /** Rows inserted (with their files, or as pointers to download). */
  readonly restored: number;
  /**
   * Records not restored, their files deleted: no message of their sender
   * with their uuid, an old file's uuid two senders share, or their place
   * (message, position) already taken (restoring twice).
   */
  readonly skipped: number;
}

/** What a backup's state becomes in the profile: an upload that had not finished is not resumed. */
const RESTORED_STATE = {
  done: 'done',
  pending: 'pending',
  uploaded: 'uploaded',
  unsent: 'failed',
  failed: 'failed',
} as const;

interface OpenFile {
  readonly record: AttachmentRecord;
  readonly plain: PassThrough;
  readonly done: Promise<unknown>;
  readonly staged: string;
  readonly localName: string;
  readonly localKey: Buffer;
}

/** Writes attachment records into a restore database and their files into the profile. */
export class AttachmentRestorer {
  private open: OpenFile | undefined;
  /** Files written so far (names under attachments/): removed again if the restore fails. */
  private readonly written: string[] = [];
  private dirs: { files: string; tmp: string } | undefined;

  constructor(
    private readonly db: Sql,
    private readonly profileDir: string,
  ) {
    db.exec(`CREATE TEMP TABLE IF NOT EXISTS restore_attachments (
      message_uuid TEXT, group_uuid TEXT, sender_account TEXT, position INTEGER, outgoing INTEGER, state TEXT, error TEXT, blob_id TEXT,
      transport_key BLOB, digest BLOB, size INTEGER, content_type TEXT, file_name TEXT, width INTEGER,
      height INTEGER, preview TEXT, duration_ms INTEGER, local_name TEXT, local_key BLOB, local_digest BLOB, local_format INTEGER)`);
  }

  /** An attachment record: the previous file is finished; this one's bytes (if any) start. */
  async attachment(record: AttachmentRecord): Promise<void> {
    await this.finishFile();
    if (record.sha256 === null) {
      this.stage(record);
      return;
    }
    this.dirs ??= ensureAttachmentDirs(this.profileDir);
    const plain = new PassThrough({ highWaterMark: 256 * 1024 });
    const staged = join(this.dirs.tmp, randomFileName('.stage'));
    const localKey = newAttachmentKey();
    const file: OpenFile = {
      record,
      plain,
      staged,
      localName: randomFileName(),
      localKey,
      done: sealToFiles(plain, [{ sealer: new AtRestSealer(record.size, localKey), path: staged }]),
    };
    // Awaited in finishFile; until then a failure surfaces through the race in data().
    file.done.catch(() => undefined);
    this.open = file;
  }

  /** A piece of the open file's plaintext (the reader checked its place, size and digest). */
  async data(record: AttachmentDataRecord): Promise<void> {
    const file = this.open;
    if (!file || file.record.id !== record.attachment) throw new Error('attachment data order');
    if (!file.plain.write(Buffer.from(record.data, 'base64')))
      await Promise.race([once(file.plain, 'drain'), file.done]);
  }

  /** Finishes the last file and makes the renames durable (before the database is swapped in). */
  async finish(): Promise<void> {
    await this.finishFile();
    if (this.dirs) fsyncDirectory(this.dirs.files);
  }

  /**
   * Inserts the staged rows, joined to their messages by sender, uuid and
   * direction (after the messages' indexes exist): a uuid is unique per
   * sender only (migration 0020), and an outgoing file belongs to our
   * message, never to a member's copy of its id. A row whose message is not
   * there (a record naming another sender, a merge that skipped it) or whose
   * place is taken (same message and position: restoring twice) is dropped
   * with its file and counted. No restored blob counts as re-derivable
   * (migration 0021): a backup does not say how its blob's IV was made, so
   * one the relay no longer has is sealed again under a new key.
   */
  resolve(now: number): RestoredAttachments {
    const staged = this.db
      .prepare('SELECT count(*) FROM temp.restore_attachments', { pluck: true })
      .get<number>()!;
    this.db.exec(SOLE_SENDER('messages', 'message_uuid'));
    this.db.exec(SOLE_SENDER('group_messages', 'group_uuid'));
    const lastIdBefore = this.db
      .prepare('SELECT coalesce(max(id), 0) FROM attachments', { pluck: true })
      .get<number>()!;
    const { changes } = this.db
      .prepare(
        `INSERT INTO attachments (message_id, group_message_id, position, outgoing, state, error, blob_id, transport_key,
           digest, size, content_type, file_name, width, height, preview, duration_ms, local_name, local_key, local_digest,
           local_format, blob_rederivable, created_at)
         SELECT m.id, g.id, r.position, r.outgoing, r.state, r.error, r.blob_id, r.transport_key, r.digest, r.size,
           r.content_type, r.file_name, r.width, r.height, r.preview, r.duration_ms, r.local_name, r.local_key, r.local_digest,
           coalesce(r.local_format, 0), 0, ?
         FROM temp.restore_attachments r
         LEFT JOIN messages m ON m.uuid = r.message_uuid AND m.sender_account = r.sender_account
           AND m.outgoing = r.outgoing
         LEFT JOIN group_messages g ON g.uuid = r.group_uuid AND g.sender_account = r.sender_account
           AND g.outgoing = r.outgoing
         WHERE (m.id IS NOT NULL OR g.id IS NOT NULL)
           AND NOT EXISTS (SELECT 1 FROM attachments a WHERE a.position = r.position
             AND (a.message_id = m.id OR a.group_message_id = g.id))
         ORDER BY r.rowid`,
      )
      .run([now]);
    const dropped = this.db
      .prepare(
        `SELECT local_name FROM temp.restore_attachments WHERE local_name IS NOT NULL
           AND local_name NOT IN (SELECT local_name FROM attachments WHERE local_name IS NOT NULL)`,
        { pluck: true },
      )
      .all<string>();
    this.forget(dropped);
    this.db.exec('DROP TABLE temp.restore_attachments');
    repointRequeuedMessages(this.db, lastIdBefore);
    failRequeuedGroupAttachments(this.db, lastIdBefore);
    return { restored: changes, skipped: staged - changes };
  }

  /** A restore that failed or was cancelled: deletes every file this one wrote. */
  async abort(): Promise<void> {
    const file = this.open;
    this.open = undefined;
    if (file) {
      file.plain.destroy();
      await file.done.catch(() => undefined);
      rmSync(file.staged, { force: true });
    }
    this.forget([...this.written]);
  }

  private forget(names: readonly string[]): void {
    removeFiles(this.profileDir, { local: names });
    const gone = new Set(names);
    this.written.splice(0, this.written.length, ...this.written.filter((n) => !gone.has(n)));
  }

  private async finishFile(): Promise<void> {
    const file = this.open;
    if (!file) return;
    this.open = undefined;
    file.plain.end();
    try {
      await file.done;
    } catch (error) {
      rmSync(file.staged, { force: true });
      throw error;
    }
    renameSync(file.staged, join(this.dirs!.files, file.localName));
    this.written.push(file.localName);
    this.stage(file.record, {
      localName: file.localName,
      localKey: file.localKey,
      localDigest: null,
      localFormat: 1,
    });
  }

  private stage(r: AttachmentRecord, local?: StoredLocally): void {
    const bytes = (b64: string | null) => (b64 === null ? null : Buffer.from(b64, 'base64'));
    const blob = (b: Uint8Array | null | undefined) => (b ? new Uint8Array(b) : null);
    this.db
      .prepare(
        `INSERT INTO temp.restore_attachments (${COLUMNS}) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
      )
      .run([
        r.message,
        r.groupMessage,
        r.senderAccount,
        r.position,
        r.outgoing ? 1 : 0,
        RESTORED_STATE[r.state],
        r.state === 'unsent' ? 'ATTACHMENT_NOT_FOUND' : r.error,
        r.blobId,
        blob(bytes(r.key)),
        blob(bytes(r.digest)),
        r.size,
        r.contentType,
        r.fileName,
        r.width,
        r.height,
        r.preview,
        r.durationMs,
        local?.localName ?? null,
        blob(local?.localKey),
        blob(local?.localDigest),
        local?.localFormat ?? null,
      ]);
  }
}
