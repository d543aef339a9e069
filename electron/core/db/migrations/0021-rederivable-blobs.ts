import type { Migration } from '../migration.ts';

/**
 * `attachments.blob_rederivable`: whether the row's transport blob is a
 * function of its key and its stored copy (the IV derived from the key,
 * attachment-crypto.ts transportIv), so that the upload job can make the
 * same blob again when the relay no longer has it
 * (docs/architecture.md#re-derivable-blobs). Set by compose for every row it
 * seals; 0 for received rows, restored rows and every row from before.
 *
 * Existing rows cannot be checked here: the IV is the blob's first 16 bytes,
 * which no row stores (only the digest of the whole blob), and finding it
 * again means encrypting the whole stored copy. So they are all 0: when the
 * relay no longer has one's blob it is sealed again under a new key, which
 * is what version 20 did for every such blob.
 *
 * The fan-out retry's marker `error = 'RECHECK_BLOB'` (an 'uploading' row
 * whose blob was complete once) is no longer used: the upload job asks the
 * relay about every row that has a reservation. Rows that carry it lose it.
 */
export const migration0021: Migration = {
  version: 21,
  name: 'rederivable-blobs',
  up(db) {
    db.exec(`
      ALTER TABLE attachments ADD COLUMN blob_rederivable INTEGER NOT NULL DEFAULT 0
        CHECK (blob_rederivable IN (0, 1));
      UPDATE attachments SET error = NULL WHERE error = 'RECHECK_BLOB';
    `);
  },
};
