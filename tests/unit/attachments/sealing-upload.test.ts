import { randomBytes } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import {
  SEALED_BUFFER_BYTES,
  SealedStream,
} from '../../../electron/core/attachments/sealed-stream.ts';
import { uploadWhileSealing } from '../../../electron/core/attachments/sealing-upload.ts';
import { SottoError } from '../../../electron/core/errors.ts';
import type { BlobUpload, BlobUploads } from '../../../electron/core/sync/blobs.ts';
import { rejectedCode } from '../../support/errors.ts';

// The upload that follows a seal (sealing-upload.ts) and the bounded stream
// between them (sealed-stream.ts), against relays written here: one that
// records what it is given, and hostile or broken ones.

const MIB = 1024 * 1024;
const LENGTH = 3 * MIB;
const UPLOAD: BlobUpload = {
  blobId: 'A'.repeat(22),
  uploadToken: 't'.repeat(43),
  length: LENGTH,
  expiresAt: Date.now() + 60_000,
};

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

/** Pushes `bytes` in 1 MiB pieces (as the seal does) and finishes. */
async function seal(sealed: SealedStream, bytes: Buffer): Promise<void> {
  for (let at = 0; at < bytes.length; at += MIB) await sealed.push(bytes.subarray(at, at + MIB));
  sealed.finish();
}

describe('SealedStream', () => {
  it('take() waits for bytes, splits at its limit, ends with the seal, and throws its failure', async () => {
    const sealed = new SealedStream();
    const waiting = sealed.take(10);
    await sealed.push(Buffer.from('0123456789abcdef'));
    expect((await waiting)?.toString()).toBe('0123456789');
    expect((await sealed.take(100))?.toString()).toBe('abcdef');
    const atEnd = sealed.take(100);
    sealed.finish();
    expect(await atEnd).toBeUndefined();
    const failed = new SealedStream();
    const stopped = failed.take(1);
    failed.fail(new SottoError('CANCELLED'));
    expect(await rejectedCode(() => stopped)).toBe('CANCELLED');
    expect(failed.done).toBe(true);
  });

  it('holds the seal back past SEALED_BUFFER_BYTES until the upload takes, and lets it go once dropped', async () => {
    const sealed = new SealedStream();
    await sealed.push(Buffer.alloc(SEALED_BUFFER_BYTES));
    let pushed = false;
    const held = sealed.push(Buffer.alloc(MIB)).then(() => (pushed = true));
    await new Promise((resolve) => setImmediate(resolve));
    expect(pushed).toBe(false);
    await sealed.take(2 * MIB);
    await held;
    expect(pushed).toBe(true);
    const more = sealed.push(Buffer.alloc(4 * MIB));
    sealed.drop();
    await more;
    expect(sealed.abandoned).toBe(true);
    expect(await sealed.take(1)).toBeUndefined();
    await sealed.push(Buffer.alloc(8 * MIB)); // nobody follows: returns at once
  });

  it('an upload that stops taking: the seal steps it aside once its wait budget is spent', async () => {
    const sealed = new SealedStream(20);
    await sealed.push(Buffer.alloc(SEALED_BUFFER_BYTES + 1));
    expect(sealed.abandoned).toBe(true);
    expect(await sealed.take(1)).toBeUndefined();
  });
});

describe('uploadWhileSealing', () => {
  it('hands the relay every sealed byte in order and completes the blob', async () => {
    const bytes = randomBytes(LENGTH);
    const sealed = new SealedStream();
    const { relay, recorded } = recordingRelay();
    const upload = uploadWhileSealing(() => relay, LENGTH, sealed);
    await seal(sealed, bytes);
    const result = await upload.settle();
    expect(Buffer.concat(recorded.received).equals(bytes)).toBe(true);
    expect(result?.offset).toBe(LENGTH);
    expect(result?.upload.blobId).toBe(UPLOAD.blobId);
    expect(recorded.appends).toBeGreaterThanOrEqual(1);
  });

  it('a seal that ends short of the length: the append ends with what was sealed, and none starts after', async () => {
    const bytes = randomBytes(MIB);
    const sealed = new SealedStream();
    const { relay, recorded } = recordingRelay();
    const upload = uploadWhileSealing(() => relay, LENGTH, sealed);
    await seal(sealed, bytes);
    const result = await upload.settle();
    expect(result?.offset).toBe(MIB);
    expect(Buffer.concat(recorded.received).equals(bytes)).toBe(true);
    expect(recorded.appends).toBe(1);
  });

  it.each([
    ['acknowledges more than it was sent', (sent: number) => sent + MIB],
    ['acknowledges less than it was sent', (sent: number) => sent - 1],
    ['acknowledges no progress', () => 0],
  ])(
    'a relay that %s: the early upload stops at the last believable offset and the seal goes on',
    async (_, answer) => {
      const sealed = new SealedStream();
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
      const upload = uploadWhileSealing(() => relay, LENGTH, sealed);
      await seal(sealed, randomBytes(LENGTH));
      expect((await upload.settle())?.offset ?? 0).toBe(0);
      expect(appends).toBe(1);
      expect(sealed.abandoned).toBe(true);
    },
  );

  it('a reservation that never comes back does not hold the compose: settle answers at once without one', async () => {
    const sealed = new SealedStream(20);
    const relay: BlobUploads = {
      create: () => new Promise<BlobUpload>(() => {}),
      offset: () => Promise.resolve(0),
      append: () => Promise.reject(new Error('never called')),
    };
    const upload = uploadWhileSealing(() => relay, LENGTH * 4, sealed);
    await seal(sealed, randomBytes(LENGTH * 4));
    expect(await upload.settle()).toBeUndefined();
  });

  it('a relay that refuses the reservation or breaks mid-append: no throw, the seal is not held, the job takes over', async () => {
    const refused = new SealedStream();
    const refusing = uploadWhileSealing(
      () => ({
        create: () => Promise.reject(new SottoError('RELAY_REFUSED', 'RELAY_ERR_BLOB_QUOTA')),
        offset: () => Promise.resolve(0),
        append: () => Promise.resolve(0),
      }),
      LENGTH * 4,
      refused,
    );
    await seal(refused, randomBytes(LENGTH * 4));
    expect(await refusing.settle()).toBeUndefined();

    const cut = new SealedStream();
    const breaking = uploadWhileSealing(
      () => ({
        create: () => Promise.resolve(UPLOAD),
        offset: () => Promise.resolve(0),
        append: async (_upload, _offset, data) => {
          for await (const chunk of data) {
            void chunk;
            throw new SottoError('RELAY_UNAVAILABLE');
          }
          return 0;
        },
      }),
      LENGTH * 4,
      cut,
    );
    await seal(cut, randomBytes(LENGTH * 4));
    const result = await breaking.settle();
    expect(result?.offset).toBe(0);
    expect(result?.upload.blobId).toBe(UPLOAD.blobId);
  });

  it('a seal that fails stops the append in flight at its next take', async () => {
    const sealed = new SealedStream();
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
    const upload = uploadWhileSealing(() => relay, LENGTH, sealed);
    await sealed.push(randomBytes(MIB));
    await started.promise;
    sealed.fail(new SottoError('INVALID_INPUT', 'file shrank while read'));
    await upload.settle();
    expect((failure as SottoError).code).toBe('INVALID_INPUT');
    expect(read).toBe(MIB);
  });
});
