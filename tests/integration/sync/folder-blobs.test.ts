import { randomBytes } from 'node:crypto';
import { mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { FOLDER_BLOB_TTL_MS, FolderBlobs } from '../../../electron/core/sync/folder-blobs.ts';
import { FolderLayout } from '../../../electron/core/sync/folder-layout.ts';
import { MAX_BLOB_BYTES } from '../../../shared/protocol/attachment.ts';
import { rejectedCode } from '../../support/errors.ts';
import { tempDir } from '../../support/profiles.ts';

// The folder relay's blob store on its own: resumable appends, what a
// download hands out, and what forged, stale or hostile requests get.

function relay(now: () => number = Date.now) {
  const root = join(tempDir(), 'relay');
  mkdirSync(root);
  const relayId = new FolderLayout(root).relayId(true);
  return { root, blobs: new FolderBlobs(root, { expected: () => relayId }, now) };
}

/** Bytes as the async stream an upload reads. */
const src = (bytes: Buffer) => Readable.from([bytes]);

async function collect(body: AsyncIterable<Uint8Array>): Promise<Buffer> {
  const out: Buffer[] = [];
  for await (const chunk of body) out.push(Buffer.from(chunk));
  return Buffer.concat(out);
}

describe('folder relay blobs', () => {
  it('appends resume at the relay offset; a blob is downloadable only once complete, from any offset', async () => {
    const { blobs } = relay();
    const data = randomBytes(10_000);
    const upload = await blobs.create(data.length);
    expect(upload.blobId).toMatch(/^[A-Za-z0-9_-]{22}$/);
    expect(await blobs.append(upload, 0, src(data.subarray(0, 4_000)))).toBe(4_000);
    expect(await blobs.offset(upload)).toBe(4_000);
    expect(await rejectedCode(() => blobs.download(upload.blobId, 0))).toBe('ATTACHMENT_NOT_FOUND');
    // A stale resume point is refused, not written over.
    expect(await rejectedCode(() => blobs.append(upload, 1_000, src(data.subarray(1_000))))).toBe(
      'RELAY_UNAVAILABLE',
    );
    expect(await blobs.append(upload, 4_000, src(data.subarray(4_000)))).toBe(10_000);
    const whole = await blobs.download(upload.blobId, 0);
    expect(whole.length).toBe(10_000);
    expect((await collect(whole.body)).equals(data)).toBe(true);
    expect(
      (await collect((await blobs.download(upload.blobId, 9_000)).body)).equals(
        data.subarray(9_000),
      ),
    ).toBe(true);
    expect(await collect((await blobs.download(upload.blobId, 10_000)).body)).toHaveLength(0);
  });

  it('refuses bytes past the declared length, a forged upload token, and lengths over the cap', async () => {
    const { blobs } = relay();
    const upload = await blobs.create(100);
    expect(await rejectedCode(() => blobs.append(upload, 0, src(randomBytes(101))))).toBe(
      'RELAY_REFUSED',
    );
    const forged = { ...upload, uploadToken: randomBytes(32).toString('base64url') };
    expect(await rejectedCode(() => blobs.append(forged, 0, src(randomBytes(10))))).toBe(
      'RELAY_REFUSED',
    );
    expect(await rejectedCode(() => blobs.offset(forged))).toBe('RELAY_REFUSED');
    expect(await rejectedCode(() => blobs.create(MAX_BLOB_BYTES + 1))).toBe('RELAY_REFUSED');
    expect(await rejectedCode(() => blobs.create(0))).toBe('RELAY_REFUSED');
  });

  it('ids that are not ids never become paths; unknown and damaged blobs are not found', async () => {
    const { root, blobs } = relay();
    writeFileSync(join(root, 'relay.json.data'), 'x');
    for (const id of ['../relay.json', '..%2Frelay', 'relay', 'A'.repeat(21), `${'A'.repeat(21)}/`])
      expect(await rejectedCode(() => blobs.download(id, 0))).toBe('ATTACHMENT_NOT_FOUND');
    expect(await rejectedCode(() => blobs.download('A'.repeat(22), 0))).toBe(
      'ATTACHMENT_NOT_FOUND',
    );
    const upload = await blobs.create(10);
    await blobs.append(upload, 0, src(randomBytes(10)));
    writeFileSync(join(root, 'blobs', `${upload.blobId}.json`), '{"length": "ten"}');
    expect(await rejectedCode(() => blobs.download(upload.blobId, 0))).toBe('ATTACHMENT_NOT_FOUND');
    expect(await rejectedCode(() => blobs.download(upload.blobId, -1))).toBe(
      'ATTACHMENT_NOT_FOUND',
    );
  });

  it('a negative or past-the-end offset is malformed', async () => {
    const { blobs } = relay();
    const upload = await blobs.create(10);
    await blobs.append(upload, 0, src(randomBytes(10)));
    expect(await rejectedCode(() => blobs.download(upload.blobId, -1))).toBe('RELAY_REFUSED');
    expect(await rejectedCode(() => blobs.download(upload.blobId, 11))).toBe('RELAY_REFUSED');
  });

  it('expired blobs are not found and are deleted, by a download or by the next create', async () => {
    let now = Date.now();
    const { root, blobs } = relay(() => now);
    const kept = await blobs.create(10);
    await blobs.append(kept, 0, src(randomBytes(10)));
    const swept = await blobs.create(10);
    now += FOLDER_BLOB_TTL_MS + 1;
    expect(await rejectedCode(() => blobs.download(kept.blobId, 0))).toBe('ATTACHMENT_NOT_FOUND');
    await blobs.create(10);
    const left = readdirSync(join(root, 'blobs'));
    expect(left.some((n) => n.startsWith(kept.blobId) || n.startsWith(swept.blobId))).toBe(false);
    expect(left).toHaveLength(2);
  });

  it('a folder with another relay id is refused (RELAY_ID_MISMATCH)', async () => {
    const { root } = relay();
    const other = new FolderBlobs(root, { expected: () => 'B'.repeat(22) });
    expect(await rejectedCode(() => other.create(10))).toBe('RELAY_REFUSED');
    expect(JSON.parse(readFileSync(join(root, 'relay.json'), 'utf8'))).toHaveProperty('relayId');
  });
});
