import type { AttachmentPointer } from '../../../shared/protocol/attachment.ts';
import { fromBase64, toBase64 } from '../../../shared/protocol/encoding.ts';
import { HIDDEN_CHARACTERS } from '../../../shared/protocol/hidden-characters.ts';
import type { Sql } from '../db/sqlite.ts';

// The attachments table (migration 0011): the only module that reads or
// writes it besides the transfer jobs in this folder.

/** Where an attachment belongs: a 1:1 message row or a group message row. */
export type MessageRef = { readonly messageId: number } | { readonly groupMessageId: number };

/** Transfer state (docs/storage.md#attachments). */
export type AttachmentState = 'uploading' | 'uploaded' | 'pending' | 'done' | 'failed';

/** The at-rest format of a stored copy (migration 0015). */
export type LocalFormat = 0 | 1;

/** What a row records of its stored copy. */
export interface StoredLocally {
  readonly localName: string;
  readonly localKey: Uint8Array;
  readonly localDigest: Uint8Array | null;
  readonly localFormat: LocalFormat;
}
/** Whether an incoming pending row may download: by the policy, because the user asked, or only on a click (migration 0013). */
export type DownloadChoice = 'auto' | 'requested' | 'declined';

/** One attachment row, as the jobs use it. */
export interface AttachmentRow {
  readonly id: number;
  readonly messageId: number | null;
  readonly groupMessageId: number | null;
  readonly position: number;
  readonly outgoing: boolean;
  readonly state: AttachmentState;
  readonly error: string | null;
  readonly blobId: string | null;
  readonly transportKey: Buffer;
  readonly digest: Buffer | null;
  readonly size: number;
  readonly contentType: string;
  readonly fileName: string | null;
  readonly width: number | null;
  readonly height: number | null;
  readonly preview: string | null;
  /** A received pointer's playing time (migration 0018); null if it stated none. */
  readonly durationMs: number | null;
  readonly uploadToken: string | null;
  readonly uploadLength: number | null;
  readonly uploadExpiresAt: number | null;
  readonly transferOffset: number;
  readonly tempName: string | null;
  readonly localName: string | null;
  readonly localKey: Buffer | null;
  /** Null for a copy in the at-rest format 1, which has no whole-file digest. */
  readonly localDigest: Buffer | null;
  /** 0: AttachmentV2 blob (older copies); 1: chunked AES-256-GCM (at-rest.ts). */
  readonly localFormat: LocalFormat;
  readonly attempts: number;
  readonly downloadChoice: DownloadChoice;
  /**
   * Whether the transport blob is a function of the key and the stored copy
   * (the IV derived from the key: sealed by this version), so the upload job
   * can make the same blob again (migration 0021). False for received rows,
   * restored rows and rows of older versions.
   */
  readonly blobRederivable: boolean;
}

const COLUMNS = `id, message_id AS messageId, group_message_id AS groupMessageId, position, outgoing, state,
  error, blob_id AS blobId, transport_key AS transportKey, digest, size, content_type AS contentType,
  file_name AS fileName, width, height, preview, duration_ms AS durationMs, upload_token AS uploadToken, upload_length AS uploadLength,
  upload_expires_at AS uploadExpiresAt, transfer_offset AS transferOffset, temp_name AS tempName,
  local_name AS localName, local_key AS localKey, local_digest AS localDigest, local_format AS localFormat,
  attempts, download_choice AS downloadChoice, blob_rederivable AS blobRederivable`;

type RawRow = Omit<
  AttachmentRow,
  'outgoing' | 'transportKey' | 'digest' | 'localKey' | 'localDigest' | 'blobRederivable'
> & {
  outgoing: number;
  blobRederivable: number;
  transportKey: Uint8Array<ArrayBuffer>;
  digest: Uint8Array<ArrayBuffer> | null;
  localKey: Uint8Array<ArrayBuffer> | null;
  localDigest: Uint8Array<ArrayBuffer> | null;
};

/** A copy the driver accepts as a BLOB parameter. */
const blob = (bytes: Uint8Array | null | undefined) => (bytes ? new Uint8Array(bytes) : null);

const buffer = (bytes: Uint8Array | null) => (bytes ? Buffer.from(bytes) : null);

function toRow(raw: RawRow): AttachmentRow {
  return {
    ...raw,
    outgoing: raw.outgoing === 1,
    blobRederivable: raw.blobRederivable === 1,
    transportKey: Buffer.from(raw.transportKey),
    digest: buffer(raw.digest),
    localKey: buffer(raw.localKey),
    localDigest: buffer(raw.localDigest),
  };
}

/** Rows matching a WHERE clause (internal to this folder: callers pass fixed SQL, values as parameters). */
export function selectAttachments(
  db: Sql,
  where: string,
  params: readonly (string | number)[] = [],
): AttachmentRow[] {
  return db
    .prepare(`SELECT ${COLUMNS} FROM attachments WHERE ${where}`)
    .all<RawRow>([...params])
    .map(toRow);
}

/** One attachment by id, or undefined. */
export function attachmentById(db: Sql, id: number): AttachmentRow | undefined {
  return selectAttachments(db, 'id = ?', [id])[0];
}

/** Writes an attachment row; returns its id. */
export function insertAttachment(
  db: Sql,
  ref: MessageRef,
  row: {
    position: number;
    outgoing: boolean;
    state: AttachmentState;
    pointer: Omit<AttachmentPointer, 'blobId' | 'key' | 'digest'> & { blobId?: string };
    transportKey: Uint8Array;
    digest: Uint8Array;
    tempName?: string;
    local?: StoredLocally;
    /** Sealed here with the IV derived from `transportKey` (compose): see AttachmentRow.blobRederivable. */
    rederivable?: boolean;
  },
  now: number,
): number {
  const p = row.pointer;
  const { lastInsertRowid } = db
    .prepare(
      `INSERT INTO attachments (message_id, group_message_id, position, outgoing, state, blob_id, transport_key,
         digest, size, content_type, file_name, width, height, preview, duration_ms, temp_name, local_name,
         local_key, local_digest, local_format, blob_rederivable, created_at)
       VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
    )
    .run([
      'messageId' in ref ? ref.messageId : null,
      'groupMessageId' in ref ? ref.groupMessageId : null,
      row.position,
      row.outgoing ? 1 : 0,
      row.state,
      p.blobId ?? null,
      blob(row.transportKey),
      blob(row.digest),
      p.size,
      p.contentType,
      p.fileName ?? null,
      p.width ?? null,
      p.height ?? null,
      p.preview ?? null,
      p.durationMs ?? null,
      row.tempName ?? null,
      row.local?.localName ?? null,
      blob(row.local?.localKey),
      blob(row.local?.localDigest),
      row.local?.localFormat ?? 0,
      row.rederivable ? 1 : 0,
      now,
    ]);
  return Number(lastInsertRowid);
}

/**
 * Records the pointers of a received message as downloads waiting to run
 * (committed with the message: R1). The download itself is a job.
 */
export function insertIncomingAttachments(
  db: Sql,
  ref: MessageRef,
  pointers: readonly AttachmentPointer[],
  now: number,
): void {
  pointers.forEach((pointer, position) => {
    const { key, digest, fileName, ...rest } = pointer;
    // The sender chose it: kept without what would rewrite how it reads; nothing left is no name.
    const shown = fileName?.replace(HIDDEN_CHARACTERS, '');
    insertAttachment(
      db,
      ref,
      {
        position,
        outgoing: false,
        state: 'pending',
        pointer: shown ? { ...rest, fileName: shown } : rest,
        transportKey: fromBase64(key),
        digest: fromBase64(digest),
      },
      now,
    );
  });
}

/**
 * The pointer a message carries for an uploaded row. No `durationMs` yet:
 * receivers before schema 18 refuse a pointer with it (the two-release path).
 */
export function pointerOf(row: AttachmentRow): AttachmentPointer {
  if (!row.blobId || !row.digest) throw new Error('attachment not uploaded');
  return {
    blobId: row.blobId,
    key: toBase64(row.transportKey),
    digest: toBase64(row.digest),
    size: row.size,
    contentType: row.contentType,
    ...(row.fileName !== null ? { fileName: row.fileName } : {}),
    ...(row.width !== null ? { width: row.width } : {}),
    ...(row.height !== null ? { height: row.height } : {}),
    ...(row.preview !== null ? { preview: row.preview } : {}),
  };
}

/** Updates columns of one row (fixed column names from this folder; values as parameters). */
export function updateAttachment(
  db: Sql,
  id: number,
  changes: Partial<{
    state: AttachmentState;
    error: string | null;
    blob_id: string | null;
    transport_key: Uint8Array;
    digest: Uint8Array;
    upload_token: string | null;
    upload_length: number | null;
    upload_expires_at: number | null;
    transfer_offset: number;
    temp_name: string | null;
    local_name: string | null;
    local_key: Uint8Array | null;
    local_digest: Uint8Array | null;
    local_format: LocalFormat;
    attempts: number;
    next_attempt_at: number;
    download_choice: DownloadChoice;
    blob_rederivable: 0 | 1;
  }>,
): void {
  const entries = Object.entries(changes);
  if (entries.length === 0) return;
  db.prepare(
    `UPDATE attachments SET ${entries.map(([column]) => `${column} = ?`).join(', ')} WHERE id = ?`,
  ).run([
    ...entries.map(([, value]) => (value instanceof Uint8Array ? blob(value) : (value ?? null))),
    id,
  ]);
}
