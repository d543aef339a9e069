import type { BlobId } from '../../../shared/protocol/attachment.ts';

// The core's view of relay blobs (attachments' ciphertext,
// docs/relay-protocol.md#blobs). A blob is uploaded to the sender's home relay
// (authorized by its login) and downloaded by id from that relay by anyone
// who has the id (recipients, from the relay on the sender's contact record).
//
// Implementations: the WebSocket relay (blob.create over the account
// connection, tus over HTTP) and the folder relay (files with random names).
// Failures are SottoErrors: RELAY_UNAVAILABLE (try again later) or
// RELAY_REFUSED (the RELAY_ERR_* code is the detail: TOO_LARGE, BLOB_QUOTA,
// FORBIDDEN), ATTACHMENT_NOT_FOUND for an id the relay does not have (complete).
// On the upload side ATTACHMENT_NOT_FOUND means the reservation is gone
// (expired): create a new one; RELAY_UNAVAILABLE from `append` may also mean
// the offset moved or another append is running: ask `offset` and continue.

/** An upload reserved on the home relay: enough to resume it after a restart (persist it). */
export interface BlobUpload {
  readonly blobId: BlobId;
  /** The upload's bearer secret (never logged; stored only in the encrypted database). */
  readonly uploadToken: string;
  /** Exact number of bytes the blob will have. */
  readonly length: number;
  /** When the relay deletes the blob (ms since the epoch). */
  readonly expiresAt: number;
}

/** Upload side, on this device's home relay. */
export interface BlobUploads {
  /** Reserves a blob of exactly `length` bytes (RELAY_REFUSED/RELAY_ERR_TOO_LARGE above the relay's cap). */
  create(length: number): Promise<BlobUpload>;
  /** How many bytes of the upload the relay holds (the resume point); `length` when complete. */
  offset(upload: BlobUpload): Promise<number>;
  /**
   * Appends `data` at `offset`, which must be the relay's offset; resolves
   * with the relay's new offset. If the transfer breaks, the relay keeps what
   * arrived: ask `offset` and continue from there.
   */
  append(upload: BlobUpload, offset: number, data: AsyncIterable<Uint8Array>): Promise<number>;
}

/** A download in progress: the blob's total size and its bytes from the requested offset. */
export interface BlobDownload {
  readonly length: number;
  readonly body: AsyncIterable<Uint8Array>;
}

/** Download side, on any relay. */
export interface BlobDownloads {
  /** A complete blob's bytes from `offset` (to resume a cut download). */
  download(blobId: BlobId, offset: number, signal?: AbortSignal): Promise<BlobDownload>;
}
