import { z } from 'zod';

// Blob transfer over HTTP on the relay's own port (docs/relay-protocol.md#blobs):
// a documented subset of tus 1.0.0 (https://tus.io/protocols/resumable-upload).
//
//   account connection:  blob.create {length}  ->  blob.created {blobId, uploadToken, expiresAt}
//   HEAD  /v2/blobs/{blobId}   Authorization: Bearer {uploadToken}
//         -> 200, Upload-Offset, Upload-Length (how much the relay has: resume point)
//   PATCH /v2/blobs/{blobId}   Authorization: Bearer {uploadToken}, Upload-Offset: n,
//         Content-Type: application/offset+octet-stream, body = bytes from n
//         -> 204, Upload-Offset (after the bytes that arrived; a cut PATCH keeps its prefix)
//         409 when n is not the relay's offset, 413 past Upload-Length
//   GET   /v2/blobs/{blobId}   [Range: bytes=n-]   (no login: the id is the capability)
//         -> 200 / 206 with the complete blob, 404 for unknown, unfinished or expired blobs
//
// Every request carries `Tus-Resumable: 1.0.0`; answers too. The upload token
// never appears in a URL (URLs end up in proxy logs).

/** The HTTP path prefix of blobs; the blob id follows. */
export const BLOB_PATH_PREFIX = '/v2/blobs/';
/** The tus version spoken. */
export const TUS_VERSION = '1.0.0';
/** Content type of a PATCH body. */
export const TUS_PATCH_CONTENT_TYPE = 'application/offset+octet-stream';

/** The bearer secret of one upload: 32 random bytes, base64url without padding (43 characters). */
export const uploadTokenSchema = z.string().regex(/^[A-Za-z0-9_-]{43}$/);
export type UploadToken = z.infer<typeof uploadTokenSchema>;
