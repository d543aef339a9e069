import { randomBytes } from 'node:crypto';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import {
  SealedLength,
  uploadWhileSealing,
} from '../../../electron/core/attachments/sealing-upload.ts';
import { SottoError } from '../../../electron/core/errors.ts';
import type { BlobUpload, BlobUploads } from '../../../electron/core/sync/blobs.ts';
import { rejectedCode } from '../../support/errors.ts';
import { tempDir } from '../../support/profiles.ts';

// The upload that follows a seal (sealing-upload.ts), against relays written
// here: one that records what it is given, and hostile or broken ones. The
// file on disk always holds more than the seal has reported, so a read past
// the reported length would show.

const MIB = 1024 * 1024;
const LENGTH = 3 * MIB;
const UPLOAD: BlobUpload = {
  blobId: 'A'.repeat(22),
  uploadToken: 't'.repeat(43),
  length: LENGTH,
  expiresAt: Date.now() + 60_000,
};

/** A file of LENGTH bytes, all of them already on disk. */
function fullFile(): { path: string; bytes: Buffer } {
  const bytes = randomBytes(LENGTH);
  const path = join(tempDir(), 'blob.up');
  writeFileSync(path, bytes);
  return { path, bytes };
}

/** Resolves once `check` holds, re-checked as `tick` is called. */
function when(check: () => boolean): { promise: Promise<void>; tick: () => void } {
  let resolve = () => {};
  const promise = new Promise<void>((r) => (resolve = r));
  const tick = () => {
    if (check()) resolve();
  };
  return { promise, tick };
}

/** A relay that records every chunk it is given; `onChunk` sees the offset after each. */
function recordingRelay(onChunk: (at: number) => void = () => undefined) {
  const recorded = { received: [] as Buffer[], appends: 0 };
  const relay: BlobUploads = {
    create: () => Promise.resolve(UPLOAD),
    offset: () => Promise.resolve(0),
    append: async (_upload, offset, data) => {
      recorded.appends++;
      let at = offset;
      for await (const chunk of data) {
        at += chunk.length;
        recorded.received.push(Buffer.from(chunk));
        onChunk(at);
      }
      return at;
    },
  };
  return { relay, recorded };
}

describe('SealedLength', () => {
  it('past() waits for more bytes, returns at the end of the seal, and throws its failure', async () => {
    const sealed = new SealedLength();
    const waiting = sealed.past(10);
    sealed.advance(5);
    sealed.advance(11);
    expect(await waiting).toBe(11);
    const atEnd = sealed.past(100);
    sealed.finish();
    expect(await atEnd).toBe(11);
    const failed = new SealedLength();
    const stopped = failed.past(0);
    failed.fail(new SottoError('CANCELLED'));
    expect(await rejectedCode(() => stopped)).toBe('CANCELLED');
    expect(failed.done).toBe(true);
  });
});

describe('uploadWhileSealing', () => {
  it('never hands the relay a byte past the sealed length; every byte in order; no append once the seal ended', async () => {
    const { path, bytes } = fullFile();
    const sealed = new SealedLength();
    let reported = 0;
    let overRead = 0;
    const { relay, recorded } = recordingRelay((at) => {
      overRead = Math.max(overRead, at - reported);
      progress.tick();
    });
    const { received } = recorded;
    const progress = when(() => received.reduce((n, b) => n + b.length, 0) >= reported);
    const upload = uploadWhileSealing(() => relay, path, LENGTH, sealed);
    reported = MIB + 17;
    sealed.advance(reported);
    await progress.promise;
    const more = when(() => received.reduce((n, b) => n + b.length, 0) >= LENGTH);
    progress.tick = more.tick;
    reported = LENGTH;
    sealed.advance(LENGTH);
    await more.promise;
    sealed.finish();
    const result = await upload.settle();
    expect(overRead).toBeLessThanOrEqual(0);
    expect(Buffer.concat(received).equals(bytes)).toBe(true);
    expect(result?.offset).toBe(LENGTH);
    expect(result?.upload.blobId).toBe(UPLOAD.blobId);
    expect(recorded.appends).toBeGreaterThanOrEqual(1);
  });

  it('the seal ending while an append waits for bytes: the append ends with what was sealed, and none starts after', async () => {
    const { path, bytes } = fullFile();
    const sealed = new SealedLength();
    const { relay, recorded } = recordingRelay(() => first.tick());
    const { received } = recorded;
    const first = when(() => received.length > 0);
    const upload = uploadWhileSealing(() => relay, path, LENGTH, sealed);
    sealed.advance(MIB);
    await first.promise;
    sealed.finish(); // as if the rest were never going to come
    const result = await upload.settle();
    expect(result?.offset).toBe(MIB);
    expect(Buffer.concat(received).equals(bytes.subarray(0, MIB))).toBe(true);
    expect(recorded.appends).toBe(1);
  });

  it.each([
    ['acknowledges more than it was sent', (sent: number) => sent + MIB],
    ['acknowledges no progress', () => 0],
  ])('a relay that %s: the early upload stops at the last believable offset', async (_, answer) => {
    const { path } = fullFile();
    const sealed = new SealedLength();
    let appends = 0;
    const relay: BlobUploads = {
      create: () => Promise.resolve(UPLOAD),
      offset: () => Promise.resolve(0),
      append: async (_upload, offset, data) => {
        appends++;
        let sent = offset;
        for await (const chunk of data) sent += chunk.length;
        return answer(sent);
      },
    };
    const upload = uploadWhileSealing(() => relay, path, LENGTH, sealed);
    sealed.advance(LENGTH);
    const settled = upload.settle();
    sealed.finish();
    expect((await settled)?.offset ?? 0).toBe(0);
    expect(appends).toBeLessThanOrEqual(1);
  });

  it('a reservation that never comes back does not hold the compose: settle answers at once without one', async () => {
    const { path } = fullFile();
    const sealed = new SealedLength();
    const relay: BlobUploads = {
      create: () => new Promise<BlobUpload>(() => {}),
      offset: () => Promise.resolve(0),
      append: () => Promise.reject(new Error('never called')),
    };
    const upload = uploadWhileSealing(() => relay, path, LENGTH, sealed);
    sealed.advance(LENGTH);
    sealed.finish();
    expect(await upload.settle()).toBeUndefined();
  });

  it('a relay that refuses the reservation or breaks mid-append: no throw, the job takes over', async () => {
    const { path } = fullFile();
    const refused = new SealedLength();
    const refusing = uploadWhileSealing(
      () => ({
        create: () => Promise.reject(new SottoError('RELAY_REFUSED', 'RELAY_ERR_BLOB_QUOTA')),
        offset: () => Promise.resolve(0),
        append: () => Promise.resolve(0),
      }),
      path,
      LENGTH,
      refused,
    );
    refused.advance(LENGTH);
    refused.finish();
    expect(await refusing.settle()).toBeUndefined();

    const cut = new SealedLength();
    const broke = when(() => true);
    const breaking = uploadWhileSealing(
      () => ({
        create: () => Promise.resolve(UPLOAD),
        offset: () => Promise.resolve(0),
        append: async (_upload, _offset, data) => {
          for await (const chunk of data) {
            void chunk;
            broke.tick();
            throw new SottoError('RELAY_UNAVAILABLE');
          }
          return 0;
        },
      }),
      path,
      LENGTH,
      cut,
    );
    cut.advance(MIB);
    await broke.promise;
    cut.finish();
    const result = await breaking.settle();
    expect(result?.offset).toBe(0);
    expect(result?.upload.blobId).toBe(UPLOAD.blobId);
  });

  it('a seal that fails stops the append in flight at its next read', async () => {
    const { path } = fullFile();
    const sealed = new SealedLength();
    let read = 0;
    const started = when(() => read > 0);
    let failure: unknown;
    const relay: BlobUploads = {
      create: () => Promise.resolve(UPLOAD),
      offset: () => Promise.resolve(0),
      append: async (_upload, offset, data) => {
        try {
          for await (const chunk of data) {
            read += chunk.length;
            started.tick();
          }
        } catch (error) {
          failure = error;
          throw error;
        }
        return offset + read;
      },
    };
    const upload = uploadWhileSealing(() => relay, path, LENGTH, sealed);
    sealed.advance(MIB);
    await started.promise;
    sealed.fail(new SottoError('INVALID_INPUT', 'file shrank while read'));
    await upload.settle();
    expect((failure as SottoError).code).toBe('INVALID_INPUT');
    expect(read).toBe(MIB);
  });
});
