import type Database from '@signalapp/sqlcipher';
import { z } from 'zod';
import { blobIdSchema, type BlobId } from '../shared/protocol/attachment.ts';
import type { ExpiredBlob, NewBlob, StoredBlob } from './storage.ts';

// The blob half of the SQLite storage (docs/relay-protocol.md#blobs).
// Synchronous steps; SqliteRelayStorage wraps the ones that must be atomic in
// a transaction (SQLite serializes writers, so a quota check and its insert
// in one transaction cannot race another create).

const blobRowSchema = z.object({
  storage_key: z.string(),
  token_hash: z.instanceof(Uint8Array),
  length: z.number().int().nonnegative(),
  expires_at: z.number().int(),
  complete: z.union([z.literal(0), z.literal(1)]),
});
const reservedRowSchema = z.object({ reserved: z.number().int().nonnegative() });
const expiredRowSchema = z.object({ blob_id: blobIdSchema, storage_key: z.string() });

/** Blob rows in relay.db. */
export class SqliteBlobs {
  constructor(private readonly db: Database) {}

  /** Inserts the blob unless the account's unexpired reservations plus it exceed the quota. */
  create(blob: NewBlob, quotaBytes: number, now: number): 'created' | 'over-quota' {
    const { reserved } = reservedRowSchema.parse(
      this.db
        .prepare(
          'SELECT coalesce(sum(length), 0) AS reserved FROM blobs WHERE account_id = ? AND expires_at > ?',
        )
        .get([blob.accountId, now]),
    );
    if (reserved + blob.length > quotaBytes) return 'over-quota';
    this.db
      .prepare(
        'INSERT INTO blobs (blob_id, account_id, storage_key, token_hash, length, expires_at) VALUES (?, ?, ?, ?, ?, ?)',
      )
      .run([
        blob.blobId,
        blob.accountId,
        blob.storageKey,
        Uint8Array.from(blob.tokenHash),
        blob.length,
        blob.expiresAt,
      ]);
    return 'created';
  }

  /** The blob's row, if any. */
  get(blobId: BlobId): StoredBlob | undefined {
    const row = this.db
      .prepare(
        'SELECT storage_key, token_hash, length, expires_at, complete FROM blobs WHERE blob_id = ?',
      )
      .get([blobId]);
    if (row === undefined) return undefined;
    const parsed = blobRowSchema.parse(row);
    return {
      storageKey: parsed.storage_key,
      tokenHash: Uint8Array.from(parsed.token_hash),
      length: parsed.length,
      expiresAt: parsed.expires_at,
      complete: parsed.complete === 1,
    };
  }

  /** Marks the blob complete. */
  complete(blobId: BlobId): void {
    this.db.prepare('UPDATE blobs SET complete = 1 WHERE blob_id = ?').run([blobId]);
  }

  /** Up to `limit` expired blobs, oldest first. */
  expired(now: number, limit: number): ExpiredBlob[] {
    return this.db
      .prepare(
        'SELECT blob_id, storage_key FROM blobs WHERE expires_at <= ? ORDER BY expires_at LIMIT ?',
      )
      .all([now, limit])
      .map((row) => {
        const parsed = expiredRowSchema.parse(row);
        return { blobId: parsed.blob_id, storageKey: parsed.storage_key };
      });
  }

  /** Deletes the rows of these blobs. */
  delete(blobIds: readonly BlobId[]): void {
    const statement = this.db.prepare('DELETE FROM blobs WHERE blob_id = ?');
    for (const blobId of blobIds) statement.run([blobId]);
  }
}
