import { setTimeout as delay } from 'node:timers/promises';
import { type Manifest, manifestSchema } from './s3-manifest.ts';
import type { S3Objects } from './s3-objects.ts';

// Where one blob's objects sit in the bucket (`blobs/KEY`, and while it is
// unfinished `uploads/KEY/tail` and `uploads/KEY/manifest`), and the reads
// and writes of its manifest, which every node relies on.

const KEY = /^[0-9a-f]{32}$/;

/** Reads of a manifest before a torn or failed one is an error (see `read`). */
const MANIFEST_READS = 5;
const MANIFEST_RETRY_MS = 20;

// Keys come from our own database, but a damaged row must not name another object.
function checked(key: string): string {
  if (!KEY.test(key)) throw new Error('not a blob storage key');
  return key;
}

/** The finished blob's object (the multipart upload's target). */
export function blobObject(key: string): string {
  return `blobs/${checked(key)}`;
}

/** The unfinished blob's tail: the bytes after its last part. */
export function tailObject(key: string): string {
  return `uploads/${checked(key)}/tail`;
}

/** The unfinished blob's manifest (s3-manifest.ts). */
export function manifestObject(key: string): string {
  return `uploads/${checked(key)}/manifest`;
}

/** The manifests of unfinished blobs, read and written whole. */
export class S3Manifests {
  constructor(private readonly objects: S3Objects) {}

  /**
   * The upload's manifest, or undefined if it has none (finished or deleted).
   * S3 replaces an object atomically, but some S3-compatible servers (s3rver
   * among them) rewrite it in place, so a read racing another node's write can
   * see a torn object or fail: read again, a bounded number of times, before
   * giving up.
   */
  async read(key: string): Promise<Manifest | undefined> {
    for (let attempt = 1; ; attempt++) {
      try {
        const bytes = await this.objects.get(manifestObject(key));
        return bytes === undefined
          ? undefined
          : manifestSchema.parse(JSON.parse(bytes.toString('utf8')));
      } catch (error) {
        if (attempt === MANIFEST_READS) throw error;
        await delay(MANIFEST_RETRY_MS * attempt);
      }
    }
  }

  /** Replaces the upload's manifest. */
  async write(key: string, manifest: Manifest): Promise<void> {
    await this.objects.put(manifestObject(key), Buffer.from(JSON.stringify(manifest)));
  }
}
