import type { RelaySettings } from '../options.ts';

// Expired blobs go away like expired envelopes (docs/relay-protocol.md#blobs):
// in small batches, bytes first and row second, so a crash in between leaves
// a row whose bytes are gone (swept again next time), never a file nobody
// knows about. Each batch is its own short transaction; intake never waits.

/** Deletes expired blobs in batches of `settings.sweepBatch`; returns how many. */
export async function sweepBlobs(settings: RelaySettings, stop: () => boolean): Promise<number> {
  const { blobStore, storage, sweepBatch } = settings;
  if (blobStore === undefined) return 0;
  let swept = 0;
  for (;;) {
    const expired = await storage.expiredBlobs(settings.now(), sweepBatch);
    for (const blob of expired) await blobStore.delete(blob.storageKey);
    await storage.deleteBlobs(expired.map((blob) => blob.blobId));
    swept += expired.length;
    if (expired.length < sweepBatch || stop()) return swept;
    await new Promise((resolve) => setImmediate(resolve));
  }
}
