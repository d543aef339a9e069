import { createCipheriv, createHash, createHmac, randomBytes } from 'node:crypto';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import {
  encryptChunks,
  encryptToFile,
  openBlob,
} from '../../../electron/core/attachments/attachment-crypto.ts';
import { ciphertextSize, paddedSize } from '../../../shared/protocol/attachment.ts';
import { rejectedCode } from '../../support/errors.ts';
import { tempDir } from '../../support/profiles.ts';

const SIZES = [0, 1, 16, 541, 542, 64 * 1024 - 1, 64 * 1024, 64 * 1024 + 1];
const KEY = Buffer.from(Array.from({ length: 64 }, (_, i) => i));
const IV = Buffer.from(Array.from({ length: 16 }, (_, i) => 0xa0 + i));

/** The layout written out in one shot, straight from attachments.md §3.1 (an independent reference). */
function reference(plain: Buffer, key: Buffer, iv: Buffer): Buffer {
  const padded = Buffer.concat([plain, Buffer.alloc(paddedSize(plain.length) - plain.length)]);
  const cipher = createCipheriv('aes-256-cbc', key.subarray(0, 32), iv);
  const body = Buffer.concat([iv, cipher.update(padded), cipher.final()]);
  const mac = createHmac('sha256', key.subarray(32)).update(body).digest();
  return Buffer.concat([body, mac]);
}

async function collect(chunks: AsyncIterable<Uint8Array>): Promise<Buffer> {
  const out: Buffer[] = [];
  for await (const chunk of chunks) out.push(Buffer.from(chunk));
  return Buffer.concat(out);
}

function once(bytes: Buffer): Buffer[] {
  // Odd slices: the stream must not depend on chunk boundaries.
  const out: Buffer[] = [];
  for (let i = 0; i < bytes.length; i += 7_777) out.push(bytes.subarray(i, i + 7_777));
  return out;
}

function plaintextOf(size: number): Buffer {
  return createHash('shake256', { outputLength: size }).update(`plain ${size}`).digest();
}

describe('AttachmentV2 encryption', () => {
  it.each(SIZES)('%i bytes: matches the reference layout, size and digest', async (size) => {
    const plain = plaintextOf(size);
    let digest: Buffer | undefined;
    const blob = await collect(
      encryptChunks(once(plain), size, KEY, (s) => (digest = s.digest), IV),
    );
    const expected = reference(plain, KEY, IV);
    expect(blob.equals(expected)).toBe(true);
    expect(blob.length).toBe(ciphertextSize(size));
    expect(digest?.equals(createHash('sha256').update(expected).digest())).toBe(true);
  });

  it('known answer: an empty file under a fixed key and IV', async () => {
    let digest: Buffer | undefined;
    const blob = await collect(
      encryptChunks(once(Buffer.alloc(0)), 0, KEY, (s) => (digest = s.digest), IV),
    );
    expect(blob.length).toBe(16 + 544 + 32);
    expect(digest?.toString('hex')).toBe(KNOWN_DIGEST_EMPTY);
  });

  it.each(SIZES)(
    '%i bytes: a file round-trips through encryptToFile and openBlob',
    async (size) => {
      const dir = tempDir();
      const plain = plaintextOf(size);
      const key = randomBytes(64);
      const path = join(dir, 'blob');
      const { digest } = await encryptToFile(once(plain), size, key, path);
      expect(readFileSync(path).length).toBe(ciphertextSize(size));
      const back = await collect(openBlob(path, { size, digest, key }));
      expect(back.equals(plain)).toBe(true);
    },
  );

  it('the IV is HMAC-SHA256(MAC key, "sotto attachment iv v1") cut to 16 bytes: the same file and key give the same blob, another key another IV', async () => {
    const plain = plaintextOf(100);
    const a = await collect(encryptChunks(once(plain), 100, KEY, () => undefined));
    const b = await collect(encryptChunks(once(plain), 100, KEY, () => undefined));
    expect(a.equals(b)).toBe(true); // what lets a resumed upload re-derive its bytes
    const expected = createHmac('sha256', KEY.subarray(32))
      .update('sotto attachment iv v1')
      .digest()
      .subarray(0, 16);
    expect(a.subarray(0, 16).equals(expected)).toBe(true);
    const other = Buffer.from(KEY);
    other[40]! ^= 1;
    const c = await collect(encryptChunks(once(plain), 100, other, () => undefined));
    expect(c.subarray(0, 16).equals(a.subarray(0, 16))).toBe(false);
  });

  it('a file that is not the declared size is refused (INVALID_INPUT)', async () => {
    const plain = plaintextOf(100);
    expect(
      await rejectedCode(() => collect(encryptChunks(once(plain), 99, KEY, () => undefined))),
    ).toBe('INVALID_INPUT');
    expect(
      await rejectedCode(() => collect(encryptChunks(once(plain), 101, KEY, () => undefined))),
    ).toBe('INVALID_INPUT');
  });
});

describe('AttachmentV2 decryption refuses what was altered, before any plaintext', () => {
  const size = 70_000;
  async function sealed() {
    const dir = tempDir();
    const plain = plaintextOf(size);
    const key = randomBytes(64);
    const path = join(dir, 'blob');
    const { digest } = await encryptToFile(once(plain), size, key, path);
    return { path, key, digest, bytes: readFileSync(path) };
  }
  async function outcome(path: string, expected: { size: number; digest: Buffer; key: Buffer }) {
    const seen: Buffer[] = [];
    const code = await rejectedCode(async () => {
      for await (const chunk of openBlob(path, expected)) seen.push(chunk);
    });
    return { code, plaintextBytes: seen.reduce((n, c) => n + c.length, 0) };
  }

  it.each([
    ['the IV', 3],
    ['the body', 20_000],
    ['the last ciphertext block', -40],
    ['the MAC', -1],
  ])('a flipped byte in %s: ATTACHMENT_TAMPERED, no plaintext', async (_name, at) => {
    const s = await sealed();
    const index = at < 0 ? s.bytes.length + at : at;
    s.bytes[index]! ^= 0x01;
    writeFileSync(s.path, s.bytes);
    expect(await outcome(s.path, { size, digest: s.digest, key: s.key })).toEqual({
      code: 'ATTACHMENT_TAMPERED',
      plaintextBytes: 0,
    });
  });

  it('a flipped digest, AES key byte or MAC key byte: ATTACHMENT_TAMPERED, no plaintext', async () => {
    const s = await sealed();
    const digest = Buffer.from(s.digest);
    digest[5]! ^= 0x80;
    expect(await outcome(s.path, { size, digest, key: s.key })).toEqual({
      code: 'ATTACHMENT_TAMPERED',
      plaintextBytes: 0,
    });
    for (const at of [0, 40]) {
      const key = Buffer.from(s.key);
      key[at]! ^= 0x01;
      const result = await outcome(s.path, { size, digest: s.digest, key });
      expect(result.code).toBe('ATTACHMENT_TAMPERED');
      // A wrong AES key passes the MAC (which does not cover the AES key): the padding check catches it at the end.
      if (at === 40) expect(result.plaintextBytes).toBe(0);
    }
  });

  it('a truncated or extended blob, or a pointer with another size: ATTACHMENT_TAMPERED', async () => {
    const s = await sealed();
    writeFileSync(s.path, s.bytes.subarray(0, s.bytes.length - 1));
    expect((await outcome(s.path, { size, digest: s.digest, key: s.key })).code).toBe(
      'ATTACHMENT_TAMPERED',
    );
    writeFileSync(s.path, Buffer.concat([s.bytes, Buffer.alloc(1)]));
    expect((await outcome(s.path, { size, digest: s.digest, key: s.key })).code).toBe(
      'ATTACHMENT_TAMPERED',
    );
    writeFileSync(s.path, s.bytes);
    // Same bucket, other size: the digest and MAC pass, the stripped padding would not be zero.
    const other = await outcome(s.path, { size: size - 1, digest: s.digest, key: s.key });
    expect(other.code).toBe('ATTACHMENT_TAMPERED');
  });

  it('a sender who padded with non-zero bytes is refused (the padding must be zero)', async () => {
    const dir = tempDir();
    const real = plaintextOf(600);
    const key = randomBytes(64);
    const path = join(dir, 'blob');
    // A 600-byte padded body whose pointer says 10 bytes: bytes 10.. are the "padding" and are not zero.
    const lying = reference(real.subarray(0, paddedSize(10)), key, IV);
    writeFileSync(path, lying);
    const digest = createHash('sha256').update(lying).digest();
    expect((await outcome(path, { size: 10, digest, key })).code).toBe('ATTACHMENT_TAMPERED');
  });
});

// Pinned from the first run, which the reference-layout cases above cross-check byte for byte.
const KNOWN_DIGEST_EMPTY = 'e5e000907491ae9fe41a93d304b887365e37ae20497e765f09bc389fe924c434';
