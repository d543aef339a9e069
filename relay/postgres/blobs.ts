import type pg from 'pg';
import { z } from 'zod';
import { blobIdSchema, type BlobId } from '../../shared/protocol/attachment.ts';
import type { ExpiredBlob, NewBlob, StoredBlob } from '../storage.ts';

// The blob half of the PostgreSQL storage (docs/relay-protocol.md#blobs).
// Each function runs on the client it is given; the caller owns the transaction.

type Query = Pick<pg.ClientBase, 'query'>;

const bigintText = z.union([z.string(), z.number()]).transform(Number).pipe(z.number().int());
const blobRowSchema = z.object({
  storage_key: z.string(),
  token_hash: z.instanceof(Uint8Array),
  length: bigintText,
  expires_at: bigintText,
  complete: z.boolean(),
});
const reservedRowSchema = z.object({ reserved: bigintText });
const expiredRowSchema = z.object({ blob_id: blobIdSchema, storage_key: z.string() });

/** pg_advisory_xact_lock class of one account's blob quota (with the account id's hash). */
const QUOTA_LOCK_CLASS = 0x626c6f62; // "blob"

/** Blob rows in PostgreSQL. */
export const postgresBlobs = {
  /**
   * Inserts the blob unless the account's unexpired reservations plus it
   * exceed the quota. A transaction-scoped advisory lock per account makes
   * the sum and the insert one step for concurrent creates on any node.
   */
  async create(
    db: Query,
    blob: NewBlob,
    quotaBytes: number,
    now: number,
  ): Promise<'created' | 'over-quota'> {
    await db.query('SELECT pg_advisory_xact_lock($1, hashtext($2))', [
      QUOTA_LOCK_CLASS,
      blob.accountId,
    ]);
    const { rows } = await db.query(
      'SELECT coalesce(sum(length), 0) AS reserved FROM blob WHERE account_id = $1 AND expires_at > $2',
      [blob.accountId, now],
    );
    if (reservedRowSchema.parse(rows[0]).reserved + blob.length > quotaBytes) return 'over-quota';
    await db.query(
      `INSERT INTO blob (blob_id, account_id, storage_key, token_hash, length, expires_at)
       VALUES ($1, $2, $3, $4, $5, $6)`,
      [
        blob.blobId,
        blob.accountId,
        blob.storageKey,
        Buffer.from(blob.tokenHash),
        blob.length,
        blob.expiresAt,
      ],
    );
    return 'created';
  },

  /** The blob's row, if any. */
  async get(db: Query, blobId: BlobId): Promise<StoredBlob | undefined> {
    const { rows } = await db.query(
      'SELECT storage_key, token_hash, length, expires_at, complete FROM blob WHERE blob_id = $1',
      [blobId],
    );
    if (rows[0] === undefined) return undefined;
    const parsed = blobRowSchema.parse(rows[0]);
    return {
      storageKey: parsed.storage_key,
      tokenHash: Uint8Array.from(parsed.token_hash),
      length: parsed.length,
      expiresAt: parsed.expires_at,
      complete: parsed.complete,
    };
  },

  /** Marks the blob complete. */
  async complete(db: Query, blobId: BlobId): Promise<void> {
    await db.query('UPDATE blob SET complete = true WHERE blob_id = $1', [blobId]);
  },

  /** Up to `limit` expired blobs, oldest first. */
  async expired(db: Query, now: number, limit: number): Promise<ExpiredBlob[]> {
    const { rows } = await db.query(
      'SELECT blob_id, storage_key FROM blob WHERE expires_at <= $1 ORDER BY expires_at LIMIT $2',
      [now, limit],
    );
    return rows.map((row) => {
      const parsed = expiredRowSchema.parse(row);
      return { blobId: parsed.blob_id, storageKey: parsed.storage_key };
    });
  },

  /** Deletes the rows of these blobs. */
  async delete(db: Query, blobIds: readonly BlobId[]): Promise<void> {
    if (blobIds.length > 0)
      await db.query('DELETE FROM blob WHERE blob_id = ANY($1::text[])', [[...blobIds]]);
  },
};
