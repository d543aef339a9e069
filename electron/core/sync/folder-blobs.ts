import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';
import { mkdirSync, readdirSync, rmSync, statSync } from 'node:fs';
import { open } from 'node:fs/promises';
import { join } from 'node:path';
import { z } from 'zod';
import { type BlobId, blobIdSchema, MAX_BLOB_BYTES } from '../../../shared/protocol/attachment.ts';
import { readChunks } from '../attachments/file-chunks.ts';
import { SottoError } from '../errors.ts';
import type { BlobDownload, BlobDownloads, BlobUpload, BlobUploads } from './blobs.ts';
import { FolderLayout } from './folder-layout.ts';
import { RELAY_ID_MISMATCH } from './relay-failure.ts';
import type { RelayIdPin } from './ws-connection.ts';

// Blobs on a folder relay (docs/relay-protocol.md#folder-relay): the data is
// one file named by the random blob id, growing by appends until its size is
// the declared length, and beside it a small JSON file with that length, the
// SHA-256 of the upload token and the expiry. Like mailboxes, a folder cannot
// enforce anything against someone who can write it: the content is opaque
// and checked by the recipient (digest and MAC), which is what matters.
//
//   blobs/<blobId>.json   {"length": n, "token": base64url SHA-256(uploadToken), "expiresAt": ms}
//   blobs/<blobId>.data   the bytes uploaded so far

/** How long a blob stays (as the relay's mailbox TTL: 30 days). */
export const FOLDER_BLOB_TTL_MS = 30 * 24 * 60 * 60 * 1000;

const metaSchema = z.strictObject({
  length: z.number().int().min(1).max(MAX_BLOB_BYTES),
  token: z.string().regex(/^[A-Za-z0-9_-]{43}$/),
  expiresAt: z.number().int().nonnegative(),
});
type Meta = z.infer<typeof metaSchema>;

/** Uploads to and downloads from the folder relay at `address`. */
export class FolderBlobs implements BlobUploads, BlobDownloads {
  private readonly layout: FolderLayout;

  constructor(
    readonly address: string,
    private readonly pin: RelayIdPin,
    private readonly now: () => number = Date.now,
  ) {
    this.layout = new FolderLayout(address);
  }

  async create(length: number): Promise<BlobUpload> {
    this.ready();
    if (!Number.isSafeInteger(length) || length < 1)
      throw new SottoError('RELAY_REFUSED', 'RELAY_ERR_MALFORMED');
    if (length > MAX_BLOB_BYTES) throw new SottoError('RELAY_REFUSED', 'RELAY_ERR_TOO_LARGE');
    this.sweep();
    const blobId = randomBytes(16).toString('base64url');
    const uploadToken = randomBytes(32).toString('base64url');
    const expiresAt = this.now() + FOLDER_BLOB_TTL_MS;
    mkdirSync(this.dir, { recursive: true });
    // The data file first: a crash between the two leaves a data file without meta, swept later.
    await (await open(this.dataPath(blobId), 'wx', 0o600)).close();
    this.layout.put(this.metaPath(blobId), { length, token: tokenHash(uploadToken), expiresAt });
    return { blobId, uploadToken, length, expiresAt };
  }

  offset(upload: BlobUpload): Promise<number> {
    this.ready();
    this.authorized(upload);
    return Promise.resolve(this.size(upload.blobId));
  }

  async append(
    upload: BlobUpload,
    offset: number,
    data: AsyncIterable<Uint8Array>,
  ): Promise<number> {
    this.ready();
    const meta = this.authorized(upload);
    const handle = await open(this.dataPath(upload.blobId), 'r+');
    try {
      let position = (await handle.stat()).size;
      // Only at the relay's offset (tus 409): another writer or a stale resume point must ask again.
      if (position !== offset) throw new SottoError('RELAY_UNAVAILABLE', 'blob offset moved');
      for await (const chunk of data) {
        if (position + chunk.length > meta.length)
          throw new SottoError('RELAY_REFUSED', 'RELAY_ERR_TOO_LARGE');
        await handle.write(chunk, 0, chunk.length, position);
        position += chunk.length;
      }
      // Acknowledged bytes must survive a power cut: the uploader forgets them once this resolves.
      await handle.sync();
      return position;
    } finally {
      await handle.close();
    }
  }

  download(blobId: BlobId, offset: number): Promise<BlobDownload> {
    this.ready();
    // The id comes from a message: it becomes a path only once it has the shape of an id.
    if (!blobIdSchema.safeParse(blobId).success) throw new SottoError('ATTACHMENT_NOT_FOUND');
    const meta = this.meta(blobId);
    if (!meta || this.size(blobId) !== meta.length) throw new SottoError('ATTACHMENT_NOT_FOUND');
    if (!Number.isSafeInteger(offset) || offset < 0 || offset > meta.length)
      throw new SottoError('RELAY_REFUSED', 'RELAY_ERR_MALFORMED');
    return Promise.resolve({ length: meta.length, body: this.read(blobId, offset, meta.length) });
  }

  /** The bytes from `offset`, opened only when the caller starts reading (a refused download opens nothing). */
  private async *read(blobId: BlobId, offset: number, length: number): AsyncGenerator<Uint8Array> {
    yield* readChunks(this.dataPath(blobId), offset, length);
  }

  private get dir(): string {
    return join(this.address, 'blobs');
  }

  private dataPath(blobId: BlobId): string {
    return join(this.dir, `${blobId}.data`);
  }

  private metaPath(blobId: BlobId): string {
    return join(this.dir, `${blobId}.json`);
  }

  /** The blob's meta, or undefined when missing, damaged or expired (an expired blob is deleted). */
  private meta(blobId: BlobId): Meta | undefined {
    const meta = this.layout.read(this.metaPath(blobId), metaSchema);
    if (meta && meta.expiresAt <= this.now()) {
      this.remove(blobId);
      return undefined;
    }
    return meta;
  }

  private authorized(upload: BlobUpload): Meta {
    if (!blobIdSchema.safeParse(upload.blobId).success)
      throw new SottoError('RELAY_REFUSED', 'RELAY_ERR_MALFORMED');
    const meta = this.meta(upload.blobId);
    if (!meta) throw new SottoError('ATTACHMENT_NOT_FOUND');
    const expected = Buffer.from(meta.token);
    const given = Buffer.from(tokenHash(upload.uploadToken));
    if (expected.length !== given.length || !timingSafeEqual(expected, given))
      throw new SottoError('RELAY_REFUSED', 'RELAY_ERR_FORBIDDEN');
    return meta;
  }

  private size(blobId: BlobId): number {
    try {
      return statSync(this.dataPath(blobId)).size;
    } catch {
      throw new SottoError('ATTACHMENT_NOT_FOUND');
    }
  }

  /** Deletes expired blobs and data files whose meta never arrived (a creator that crashed). */
  private sweep(): void {
    let names: string[];
    try {
      names = readdirSync(this.dir);
    } catch {
      return;
    }
    const ids = new Set(
      names.flatMap((n) => /^([A-Za-z0-9_-]{22})\.(data|json)$/.exec(n)?.[1] ?? []),
    );
    for (const blobId of ids) {
      if (this.meta(blobId)) continue;
      // A data file younger than a minute may be a create in progress.
      const young = names.includes(`${blobId}.data`) && this.ageMs(blobId) < 60_000;
      if (!young) this.remove(blobId);
    }
  }

  private ageMs(blobId: BlobId): number {
    try {
      return this.now() - statSync(this.dataPath(blobId)).mtimeMs;
    } catch {
      return Infinity;
    }
  }

  private remove(blobId: BlobId): void {
    rmSync(this.dataPath(blobId), { force: true });
    rmSync(this.metaPath(blobId), { force: true });
  }

  /** The folder must be the relay the pin names (the relay.json check every folder client makes). */
  private ready(): void {
    try {
      if (!statSync(this.address).isDirectory()) throw new Error('not a folder');
    } catch {
      throw new SottoError('RELAY_UNAVAILABLE', 'folder missing');
    }
    const relayId = this.layout.relayId(false);
    const pinned = this.pin.expected();
    if (pinned !== undefined && pinned !== relayId)
      throw new SottoError('RELAY_REFUSED', RELAY_ID_MISMATCH);
  }
}

function tokenHash(token: string): string {
  return createHash('sha256').update(token).digest('base64url');
}
