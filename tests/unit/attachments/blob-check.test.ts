import { createHash, randomBytes } from 'node:crypto';
import { readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import {
  encryptToFile,
  encryptToFiles,
} from '../../../electron/core/attachments/attachment-crypto.ts';
import { BlobCheck, verifyBlob } from '../../../electron/core/attachments/blob-check.ts';
import { ciphertextSize } from '../../../shared/protocol/attachment.ts';
import { rejectedCode, thrownCode } from '../../support/errors.ts';
import { tempDir } from '../../support/profiles.ts';

// BlobCheck hashes a download as it arrives instead of reading it back: it
// must decide exactly as verifyBlob over the finished file does, whatever the
// chunking (a tag split across chunks, one byte at a time, a resumed prefix).

const SIZE = 70_000;

function plaintextOf(size: number): Buffer {
  return createHash('shake256', { outputLength: size }).update(`plain ${size}`).digest();
}

async function sealed() {
  const path = join(tempDir(), 'blob');
  const key = randomBytes(64);
  const { digest } = await encryptToFile([plaintextOf(SIZE)], SIZE, key, path);
  return { path, bytes: readFileSync(path), expected: { size: SIZE, digest, key } };
}

/** Feeds `bytes` in slices of `step` and returns what finish() threw (undefined: accepted). */
function checkSliced(
  bytes: Buffer,
  expected: ConstructorParameters<typeof BlobCheck>[0],
  step: number,
) {
  const check = new BlobCheck(expected);
  return thrownCode(() => {
    for (let i = 0; i < bytes.length; i += step) check.update(bytes.subarray(i, i + step));
    check.finish();
  });
}

describe('BlobCheck: the check of a blob fed as it arrives', () => {
  it.each([1, 31, 33, 4096, 65_536, 1 << 20])(
    'slices of %i bytes: an intact blob passes',
    async (step) => {
      const s = await sealed();
      expect(checkSliced(s.bytes, s.expected, step)).toBeUndefined();
    },
  );

  it.each([
    ['the IV', 0],
    ['the body', 30_000],
    ['the first byte of the MAC', -32],
    ['the last byte of the MAC', -1],
  ])('a flipped byte in %s, the tag split across chunks: ATTACHMENT_TAMPERED', async (_n, at) => {
    const s = await sealed();
    s.bytes[at < 0 ? s.bytes.length + at : at]! ^= 0x01;
    // 17-byte slices put the tag's boundary inside a chunk.
    expect(checkSliced(s.bytes, s.expected, 17)).toBe('ATTACHMENT_TAMPERED');
  });

  it('a truncated blob fails at finish; one byte too many fails at once, before it is passed on', async () => {
    const s = await sealed();
    expect(checkSliced(s.bytes.subarray(0, s.bytes.length - 1), s.expected, 4096)).toBe(
      'ATTACHMENT_TAMPERED',
    );
    const check = new BlobCheck(s.expected);
    check.update(s.bytes);
    expect(thrownCode(() => check.update(Buffer.alloc(1)))).toBe('ATTACHMENT_TAMPERED');
  });

  it('a contact turned hostile: the right blob under another pointer (digest, key) fails', async () => {
    const a = await sealed();
    const b = await sealed();
    expect(checkSliced(a.bytes, b.expected, 1 << 16)).toBe('ATTACHMENT_TAMPERED');
    // The right digest with a wrong MAC key: the digest passes, the MAC does not.
    const forged = {
      ...a.expected,
      key: Buffer.concat([a.expected.key.subarray(0, 32), randomBytes(32)]),
    };
    expect(checkSliced(a.bytes, forged, 1 << 16)).toBe('ATTACHMENT_TAMPERED');
  });

  it('agrees with verifyBlob over the file, which refuses a wrong length before reading', async () => {
    const s = await sealed();
    await expect(verifyBlob(s.path, s.expected)).resolves.toBeUndefined();
    writeFileSync(s.path, Buffer.concat([s.bytes, Buffer.alloc(1)]));
    expect(await rejectedCode(() => verifyBlob(s.path, s.expected))).toBe('ATTACHMENT_TAMPERED');
  });
});

describe('encryptToFiles: one read, several encryptions', () => {
  it('each file is a complete blob under its own key and IV', async () => {
    const dir = tempDir();
    const keys = [randomBytes(64), randomBytes(64)];
    const paths = [join(dir, 'a'), join(dir, 'b')];
    const plain = plaintextOf(SIZE);
    const sealedAll = await encryptToFiles([plain.subarray(0, 5), plain.subarray(5)], SIZE, [
      { key: keys[0]!, path: paths[0]! },
      { key: keys[1]!, path: paths[1]! },
    ]);
    const [a, b] = paths.map((p) => readFileSync(p));
    expect(a!.length).toBe(ciphertextSize(SIZE));
    expect(a!.subarray(0, 16).equals(b!.subarray(0, 16))).toBe(false);
    for (const [i, path] of paths.entries())
      await expect(
        verifyBlob(path, { size: SIZE, digest: sealedAll[i]!.digest, key: keys[i]! }),
      ).resolves.toBeUndefined();
  });

  it('a source that is not the declared size fails the whole call (the caller deletes the files)', async () => {
    const dir = tempDir();
    const targets = [{ key: randomBytes(64), path: join(dir, 'a') }];
    expect(await rejectedCode(() => encryptToFiles([plaintextOf(10)], 11, targets))).toBe(
      'INVALID_INPUT',
    );
    // The file was closed (no handle leaks) and holds no complete blob.
    expect(readdirSync(dir)).toEqual(['a']);
    expect(readFileSync(join(dir, 'a')).length).toBeLessThan(ciphertextSize(11));
  });
});
