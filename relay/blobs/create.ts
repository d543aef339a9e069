import { randomBytes } from 'node:crypto';
import { blobIdSchema } from '../../shared/protocol/attachment.ts';
import type { ClientFrame, ServerFrame } from '../../shared/relay/protocol.ts';
import { uploadTokenSchema } from '../../shared/relay/blobs.ts';
import { overBudget, refusalFrame } from '../anonymous-context.ts';
import { tokenHash } from '../auth.ts';
import type { RelayBudgets } from '../budgets.ts';
import { errorFrame } from '../frames.ts';
import { log } from '../log.ts';
import { countBlobRefusal, metrics } from '../metrics.ts';
import type { RelaySettings } from '../options.ts';
import type { Mailbox } from '../storage.ts';

// blob.create on an account connection (docs/relay-protocol.md#blobs): the
// logged-in account reserves an upload of an exact length. The relay keeps
// only the SHA-256 of the upload token; the token goes to the client once.

/** Bytes of a blob id and of an upload token. */
const BLOB_ID_BYTES = 16;
const UPLOAD_TOKEN_BYTES = 32;

/** Answers blob.create: cap, budget, then the quota inside the storage's transaction. */
export async function createBlob(
  frame: Extract<ClientFrame, { type: 'blob.create' }>,
  self: Mailbox,
  settings: RelaySettings,
  budgets: RelayBudgets,
): Promise<ServerFrame> {
  const { blobStore, storage, now } = settings;
  // A relay without a blob store (a PostgreSQL node started without --blob-dir) serves no blobs.
  if (blobStore === undefined) return errorFrame('RELAY_ERR_FORBIDDEN', frame.id);
  if (frame.length > settings.maxBlobBytes) {
    countBlobRefusal('too_large');
    return errorFrame('RELAY_ERR_TOO_LARGE', frame.id);
  }
  const refusal = overBudget(budgets.blobCreate(self.accountId));
  if (refusal !== undefined) return refusalFrame(refusal, frame.id);
  const blobId = blobIdSchema.parse(randomBytes(BLOB_ID_BYTES).toString('base64url'));
  const token = randomBytes(UPLOAD_TOKEN_BYTES);
  const expiresAt = now() + settings.ttlMs;
  // Bytes first, row second: a crash in between leaves an empty file, never a row without one.
  const storageKey = await blobStore.create();
  const blob = {
    blobId,
    accountId: self.accountId,
    storageKey,
    tokenHash: tokenHash(token),
    length: frame.length,
    expiresAt,
  };
  let created: 'created' | 'over-quota';
  try {
    created = await storage.createBlob(blob, settings.blobQuotaBytes, now());
  } catch (error) {
    await blobStore.delete(storageKey).catch(() => undefined);
    throw error;
  }
  if (created === 'over-quota') {
    await blobStore.delete(storageKey);
    countBlobRefusal('quota');
    log.info('blob.over_quota');
    return errorFrame('RELAY_ERR_BLOB_QUOTA', frame.id);
  }
  metrics.blobsCreated += 1;
  return {
    type: 'blob.created',
    id: frame.id,
    blobId,
    uploadToken: uploadTokenSchema.parse(token.toString('base64url')),
    expiresAt,
  };
}
