import { randomBytes } from 'node:crypto';
import { closeSync, existsSync, openSync, readSync, writeFileSync, writeSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import {
  encryptChunks,
  newAttachmentKey,
} from '../../../electron/core/attachments/attachment-crypto.ts';
import {
  AT_REST_CHUNK_BYTES,
  AT_REST_TAG_BYTES,
} from '../../../electron/core/attachments/at-rest.ts';
import { queueAttachmentMessage } from '../../../electron/core/attachments/compose.ts';
import { localPath, tempPath } from '../../../electron/core/attachments/local-files.ts';
import { uploadAttachments } from '../../../electron/core/attachments/upload-job.ts';
import { SottoError } from '../../../electron/core/errors.ts';
import type { BlobUploads } from '../../../electron/core/sync/blobs.ts';
import { ciphertextSize } from '../../../shared/protocol/attachment.ts';
import {
  ATTACHMENT_RELAY_KINDS,
  type AttachmentRelay,
  testBytes,
  testFile,
  useAttachmentRelays,
} from '../../support/attachment-relays.ts';
import { receivedBytes } from '../../support/engine-attachments.ts';
import { befriend, enginePerson } from '../../support/engines.ts';
import { tempDir } from '../../support/profiles.ts';

// Uploads without a ciphertext temp file (blob-source.ts): the blob's IV
// follows from its key, so every resume re-derives the bytes from the stored
// copy. An upload broken at several points (as a kill -9 or a relay restart
// leaves it: the relay keeps the prefix it got) resumes from the relay's
// offset and ends with the blob a straight seal of the file makes, which the
// receiver's digest and MAC checks accept. A stored copy damaged before a
// resume fails the upload (ATTACHMENT_TAMPERED) before any byte past the
// damage leaves; a row of an older version that kept its `.up` file resumes
// from it; one whose digest is not the derivation's never completes its blob.

const SIZE = 6 * 1024 * 1024 + 12_345;
const LENGTH = ciphertextSize(SIZE);

type Person = Awaited<ReturnType<typeof enginePerson>>;

type Row = {
  id: number;
  state: string;
  error: string | null;
  transportKey: Uint8Array<ArrayBuffer>;
  digest: Uint8Array<ArrayBuffer>;
  localName: string;
};

function rowOf(alice: Person): Row {
  return alice.profile.db
    .prepare(
      `SELECT id, state, error, transport_key AS transportKey, digest, local_name AS localName
       FROM attachments`,
    )
    .get<Row>()!;
}

/** Alice composes a SIZE-byte file to Bob with no upload during the seal (the upload job sends it all). */
async function composed(relay: AttachmentRelay) {
  const alice = await enginePerson('Alice', relay.address);
  const bob = await enginePerson('Bob', relay.address);
  befriend(alice, bob);
  const path = testFile(tempDir(), 'doc.bin', SIZE);
  await queueAttachmentMessage(alice.profile, bob.profile.account.accountId, [{ path }]);
  return { alice, bob };
}

/** Alice's home uploads with the append broken once `cutAt` bytes of the blob have been given. */
function cutting(alice: Person, cutAt: number): () => BlobUploads {
  return () => {
    const relay = alice.engine.pool.homeBlobs();
    return {
      ...relay,
      create: (length) => relay.create(length),
      offset: (upload) => relay.offset(upload),
      append: (upload, offset, data) =>
        relay.append(
          upload,
          offset,
          (async function* () {
            let at = offset;
            for await (const chunk of data) {
              if (at + chunk.length >= cutAt) {
                if (cutAt > at) yield chunk.subarray(0, cutAt - at);
                throw new SottoError('RELAY_UNAVAILABLE', 'cut for the test');
              }
              at += chunk.length;
              yield chunk;
            }
          })(),
        ),
    };
  };
}

/**
 * Upload passes of Alice's that the relay's cut interrupts, until the relay
 * holds exactly `cutAt` bytes (a relay process may still be closing the
 * previous broken append: that pass makes no progress and is repeated).
 */
async function interruptedAt(alice: Person, relay: AttachmentRelay, cutAt: number): Promise<void> {
  const held = () => Math.max(0, ...relay.blobSizes().values());
  for (let pass = 0; pass < 50 && held() < cutAt; pass++) {
    alice.profile.db.exec('UPDATE attachments SET next_attempt_at = 0');
    const report = await uploadAttachments(alice.profile, cutting(alice, cutAt));
    expect(report.uploaded).toBe(0);
    if (held() < cutAt) await new Promise((r) => setTimeout(r, 100));
  }
  expect(held()).toBe(cutAt);
  expect(rowOf(alice).state).toBe('uploading');
}

/**
 * Upload passes until the row is no longer 'uploading' (a relay process may
 * still be closing the append a cut broke: RELAY_UNAVAILABLE, retried as the
 * engine would, its backoff cleared); the number of rows failed.
 */
async function resumed(alice: Person): Promise<number> {
  let failed = 0;
  for (let pass = 0; pass < 50 && rowOf(alice).state === 'uploading'; pass++) {
    alice.profile.db.exec('UPDATE attachments SET next_attempt_at = 0');
    failed += (await uploadAttachments(alice.profile, () => alice.engine.pool.homeBlobs())).failed;
    if (rowOf(alice).state === 'uploading') await new Promise((r) => setTimeout(r, 100));
  }
  return failed;
}

/** The blob a straight seal of the file makes under `key` (compose's construction, derived IV). */
async function straightDigest(key: Uint8Array): Promise<Buffer> {
  let digest: Buffer | undefined;
  for await (const chunk of encryptChunks([testBytes(SIZE, 'doc.bin')], SIZE, key, (s) => {
    digest = s.digest;
  }))
    void chunk;
  return digest!;
}

/** Flips one byte of the stored copy's chunk `index` (its ciphertext, so its tag fails). */
function damageChunk(alice: Person, index: number): void {
  const fd = openSync(localPath(alice.dir, rowOf(alice).localName), 'r+');
  try {
    const at = index * (AT_REST_CHUNK_BYTES + AT_REST_TAG_BYTES) + 100;
    const byte = Buffer.alloc(1);
    readSync(fd, byte, 0, 1, at);
    byte[0]! ^= 0x01;
    writeSync(fd, byte, 0, 1, at);
  } finally {
    closeSync(fd);
  }
}

const startRelay = useAttachmentRelays();

describe.each(ATTACHMENT_RELAY_KINDS)(
  'an upload re-derived from the stored copy, %s relay',
  (kind) => {
    it('broken at three points, each resume from the relay offset: the blob is the straight one and Bob accepts it', async () => {
      const relay = await startRelay(kind);
      const { alice, bob } = await composed(relay);
      // Offsets that are not block or chunk boundaries, and one past the last full MiB.
      for (const cutAt of [
        Math.floor(LENGTH * 0.1) + 3,
        Math.floor(LENGTH * 0.37) + 7,
        LENGTH - 40,
      ])
        await interruptedAt(alice, relay, cutAt);
      expect(await resumed(alice)).toBe(0);
      await alice.engine.sendOutbox();
      const row = rowOf(alice);
      expect(row.state).toBe('uploaded');
      expect(Buffer.from(row.digest).equals(await straightDigest(row.transportKey))).toBe(true);
      expect([...relay.blobSizes().values()]).toEqual([LENGTH]);
      // Bob's digest and MAC checks pass only for exactly the blob the pointer names.
      expect((await receivedBytes(bob)).equals(testBytes(SIZE, 'doc.bin'))).toBe(true);
    });

    it('a stored copy damaged before the resume: ATTACHMENT_TAMPERED, nothing past the damage uploaded, never sent', async () => {
      const relay = await startRelay(kind);
      const { alice, bob } = await composed(relay);
      await interruptedAt(alice, relay, Math.floor(LENGTH * 0.25));
      const damaged = Math.floor((SIZE * 0.6) / AT_REST_CHUNK_BYTES);
      damageChunk(alice, damaged);
      expect(await resumed(alice)).toBe(1);
      expect(rowOf(alice)).toMatchObject({ state: 'failed', error: 'ATTACHMENT_TAMPERED' });
      const [held] = [...relay.blobSizes().values()];
      // The blob's bytes before the damaged chunk at most (IV first, then the CBC of the plaintext).
      expect(held).toBeLessThanOrEqual(16 + damaged * AT_REST_CHUNK_BYTES);
      expect(held).toBeGreaterThanOrEqual(Math.floor(LENGTH * 0.25));
      expect(
        alice.profile.db.prepare('SELECT status FROM messages', { pluck: true }).get<string>(),
      ).toBe('failed');
      expect(alice.profile.db.prepare('SELECT count(*) FROM outbox', { pluck: true }).get()).toBe(
        0,
      );
      await bob.engine.receive({ firstWaitMs: 200, idleMs: 0 });
      expect(bob.profile.db.prepare('SELECT count(*) FROM messages', { pluck: true }).get()).toBe(
        0,
      );
    });

    it("an older version's pending upload with its `.up` file (a random IV): resumes from that file, byte-identical, the file deleted", async () => {
      const relay = await startRelay(kind);
      const { alice, bob } = await composed(relay);
      const { name, blob } = await olderUpload(alice, true);
      await interruptedAt(alice, relay, Math.floor(LENGTH * 0.4) + 5);
      expect(await resumed(alice)).toBe(0);
      await alice.engine.sendOutbox();
      expect(rowOf(alice).state).toBe('uploaded');
      expect(existsSync(tempPath(alice.dir, name))).toBe(false);
      expect([...relay.blobSizes().values()]).toEqual([blob.length]);
      expect((await receivedBytes(bob)).equals(testBytes(SIZE, 'doc.bin'))).toBe(true);
    });

    it('a row whose digest is not the derivation (a random IV, its file gone): ATTACHMENT_TAMPERED, the blob never complete', async () => {
      const relay = await startRelay(kind);
      const { alice } = await composed(relay);
      await olderUpload(alice, false);
      expect(await resumed(alice)).toBe(1);
      expect(rowOf(alice)).toMatchObject({ state: 'failed', error: 'ATTACHMENT_TAMPERED' });
      expect([...relay.blobSizes().values()].every((size) => size < LENGTH)).toBe(true);
    });
  },
);

/**
 * Makes Alice's row what an older version composed: a blob under a new key
 * with a random IV, written to a `.up` temp file the row names (`keepFile`)
 * or lost (the row names none).
 */
async function olderUpload(
  alice: Person,
  keepFile: boolean,
): Promise<{ name: string; blob: Buffer }> {
  const key = newAttachmentKey();
  let digest: Buffer | undefined;
  const pieces: Buffer[] = [];
  for await (const chunk of encryptChunks(
    [testBytes(SIZE, 'doc.bin')],
    SIZE,
    key,
    (s) => (digest = s.digest),
    randomBytes(16),
  ))
    pieces.push(chunk);
  const blob = Buffer.concat(pieces);
  const name = `${randomBytes(16).toString('hex')}.up`;
  if (keepFile) writeFileSync(tempPath(alice.dir, name), blob);
  alice.profile.db
    .prepare('UPDATE attachments SET transport_key = ?, digest = ?, temp_name = ?')
    .run([new Uint8Array(key), new Uint8Array(digest!), keepFile ? name : null]);
  return { name, blob };
}
