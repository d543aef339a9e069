import { createHash } from 'node:crypto';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { queueAttachmentMessage } from '../../../electron/core/attachments/compose.ts';
import {
  UPLOAD_CHUNK_BYTES,
  UPLOAD_CHUNK_MS,
  uploadAttachments,
} from '../../../electron/core/attachments/upload-job.ts';
import type { BlobUpload, BlobUploads } from '../../../electron/core/sync/blobs.ts';
import { FolderBlobs } from '../../../electron/core/sync/folder-blobs.ts';
import { ciphertextSize } from '../../../shared/protocol/attachment.ts';
import { befriend, enginePerson } from '../../support/engines.ts';
import { tempDir } from '../../support/profiles.ts';

// How an upload is cut into appends (upload-job.ts): at most UPLOAD_CHUNK_BYTES
// each, and on a slow link at most UPLOAD_CHUNK_MS each, so the relay fsyncs
// and the row commits a few times per file on a fast link and still every
// second on a slow one. The relay is a real folder relay; the recorder only
// watches the appends go by (and, for the slow link, moves the clock as a
// slow link would take time: no sleeping).

const SIZE = 20 * 1024 * 1024;

interface Append {
  readonly offset: number;
  readonly bytes: number;
  readonly acknowledged: number;
}

/** The relay's uploads, with every append recorded; `perChunk` runs as each chunk is consumed. */
function recorded(relay: FolderBlobs, appends: Append[], perChunk: () => void): BlobUploads {
  return {
    create: (length) => relay.create(length),
    offset: (upload) => relay.offset(upload),
    append: async (upload: BlobUpload, offset, data) => {
      let bytes = 0;
      const counted = (async function* () {
        for await (const chunk of data) {
          bytes += chunk.length;
          perChunk();
          yield chunk;
        }
      })();
      const acknowledged = await relay.append(upload, offset, counted);
      appends.push({ offset, bytes, acknowledged });
      return acknowledged;
    },
  };
}

async function sender() {
  const relay = join(tempDir(), 'relay');
  const alice = await enginePerson('Alice', relay);
  const bob = await enginePerson('Bob', relay);
  befriend(alice, bob);
  const path = join(tempDir(), 'video.bin');
  const bytes = createHash('shake256', { outputLength: SIZE }).update('video').digest();
  writeFileSync(path, bytes);
  await queueAttachmentMessage(alice.profile, bob.profile.account.accountId, [{ path }]);
  const relayId = (
    JSON.parse(readFileSync(join(relay, 'relay.json'), 'utf8')) as { relayId: string }
  ).relayId;
  return { alice, blobs: new FolderBlobs(relay, { expected: () => relayId }) };
}

function uploadRow(alice: Awaited<ReturnType<typeof sender>>['alice']) {
  return alice.profile.db
    .prepare('SELECT state, transfer_offset AS offset FROM attachments')
    .get<{ state: string; offset: number }>();
}

afterEach(() => vi.restoreAllMocks());

describe('an upload is cut into appends by bytes and by time', () => {
  it(`a fast link: appends of ${UPLOAD_CHUNK_BYTES / 2 ** 20} MiB, contiguous, the last offset committed`, async () => {
    const { alice, blobs } = await sender();
    const appends: Append[] = [];
    const report = await uploadAttachments(alice.profile, () =>
      recorded(blobs, appends, () => undefined),
    );
    expect(report).toMatchObject({ uploaded: 1, failed: 0, queued: 1 });
    const length = ciphertextSize(SIZE);
    expect(appends.length).toBe(Math.ceil(length / UPLOAD_CHUNK_BYTES));
    let next = 0;
    for (const append of appends) {
      expect(append.offset).toBe(next);
      expect(append.bytes).toBeLessThanOrEqual(UPLOAD_CHUNK_BYTES);
      expect(append.acknowledged).toBe(append.offset + append.bytes);
      next = append.acknowledged;
    }
    expect(next).toBe(length);
    expect(uploadRow(alice)).toEqual({ state: 'uploaded', offset: length });
  });

  it(`a slow link: an append ends once ${UPLOAD_CHUNK_MS} ms have passed, progress acknowledged each time`, async () => {
    const { alice, blobs } = await sender();
    // Each 1 MiB chunk "takes" 400 ms: an append carries 3 chunks, then ends.
    let clock = Date.now();
    vi.spyOn(Date, 'now').mockImplementation(() => clock);
    const appends: Append[] = [];
    await uploadAttachments(alice.profile, () =>
      recorded(blobs, appends, () => void (clock += 400)),
    );
    const length = ciphertextSize(SIZE);
    // (±16: the blob's IV rides with the first chunk of the derivation.)
    expect(appends.slice(0, -1).every((a) => Math.abs(a.bytes - 3 * 1024 * 1024) <= 16)).toBe(true);
    expect(appends.length).toBe(Math.ceil(length / (3 * 1024 * 1024)));
    expect(appends.at(-1)?.acknowledged).toBe(length);
    expect(uploadRow(alice)).toEqual({ state: 'uploaded', offset: length });
  });
});
