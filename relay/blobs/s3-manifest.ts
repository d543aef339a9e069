import { createHash } from 'node:crypto';
import { z } from 'zod';

// The state of one unfinished S3 blob (docs/relay-operations.md#blobs), kept
// in the bucket next to it so every node sees it: the multipart upload id,
// the parts uploaded so far, and the tail (the bytes after the last part,
// fewer than a part, kept as a small object of their own).

/** S3's smallest part except the last: bytes are buffered until a part is this full. */
export const PART_BYTES = 5 * 1024 * 1024;

/** S3 allows 10,000 parts; at 5 MiB that is 48 GiB, far above the largest blob. */
const MAX_PARTS = 10_000;

const partSchema = z.object({
  number: z.number().int().min(1).max(MAX_PARTS),
  etag: z.string().min(1).max(200),
  size: z.literal(PART_BYTES),
});

/** One upload's manifest as stored (JSON). */
export const manifestSchema = z.object({
  uploadId: z.string().min(1).max(1024),
  parts: z.array(partSchema).max(MAX_PARTS),
  /** Bytes of the tail object that count: a crash may leave it longer, never shorter. */
  tail: z
    .number()
    .int()
    .min(0)
    .max(PART_BYTES - 1),
  /** SHA-256 (hex) of those bytes: a tail object that does not match is not served. */
  tailSha256: z.string().regex(/^[0-9a-f]{64}$/),
});

/** What the bucket says about an unfinished blob. */
export type Manifest = z.infer<typeof manifestSchema>;

/** SHA-256 in hex, as the manifest records a tail. */
export function sha256Hex(bytes: Uint8Array): string {
  return createHash('sha256').update(bytes).digest('hex');
}

/** The manifest of a new upload: no parts, no tail. */
export function emptyManifest(uploadId: string): Manifest {
  return { uploadId, parts: [], tail: 0, tailSha256: sha256Hex(new Uint8Array(0)) };
}

/** Bytes in the upload's parts. */
export function partBytes(manifest: Manifest): number {
  return manifest.parts.length * PART_BYTES;
}

/**
 * The tail bytes the manifest vouches for, or undefined when the tail object
 * is missing, shorter, or different (then only the parts are durable). Longer
 * is fine: a crash between writing a grown tail and its manifest leaves the
 * old tail as its prefix.
 */
export function vouchedTail(manifest: Manifest, object: Buffer | undefined): Buffer | undefined {
  if (manifest.tail === 0) return Buffer.alloc(0);
  if (object === undefined || object.length < manifest.tail) return undefined;
  const tail = object.subarray(0, manifest.tail);
  return sha256Hex(tail) === manifest.tailSha256 ? tail : undefined;
}
