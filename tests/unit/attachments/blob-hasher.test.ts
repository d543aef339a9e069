import { createHash, createHmac, randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { encryptToFile, openBlob } from '../../../electron/core/attachments/attachment-crypto.ts';
import {
  blobHasher,
  HASH_WORKER_MIN_BYTES,
} from '../../../electron/core/attachments/blob-hasher.ts';
import { tempDir } from '../../support/profiles.ts';

// The digest and MAC of a blob, hashed inline or on the worker thread
// (blob-hasher.ts): both must equal SHA-256 / HMAC-SHA256 computed here over
// the same bytes, whatever the chunking, with two blobs hashed at once, after
// an abandoned one, and with the caller reusing its buffer right after update.

const KEY = randomBytes(32);

function reference(bytes: Buffer, macEnd: number, appendMac = false) {
  const mac = createHmac('sha256', KEY).update(bytes.subarray(0, macEnd)).digest();
  const digest = createHash('sha256').update(bytes);
  if (appendMac) digest.update(mac);
  return { digest: digest.digest(), mac };
}

async function hashed(bytes: Buffer, macEnd: number, worker: boolean, cut: number) {
  const hasher = blobHasher(KEY, macEnd, bytes.length, worker);
  // One buffer reused for every chunk: the hasher must have taken its bytes when update returns.
  const scratch = Buffer.alloc(cut);
  for (let at = 0; at < bytes.length; at += cut) {
    const n = bytes.copy(scratch, 0, at, at + cut);
    await hasher.update(scratch.subarray(0, n));
    scratch.fill(0xee);
  }
  return hasher.finish();
}

describe.each([
  ['inline', false],
  ['on the worker', true],
])('blobHasher %s', (_name, worker) => {
  it('matches SHA-256 and HMAC-SHA256 over 9 MiB in 1 MiB, odd and tiny chunks', async () => {
    const bytes = randomBytes(9 * 1024 * 1024 + 5);
    const macEnd = bytes.length - 32;
    for (const cut of [1024 * 1024, 777_777, 4099]) {
      const got = await hashed(bytes, macEnd, worker, cut);
      expect(got).toEqual(reference(bytes, macEnd));
    }
  });

  it('appendMac hashes the MAC into the digest after the bytes (a sealer’s tag)', async () => {
    const bytes = randomBytes(70_000);
    const hasher = blobHasher(KEY, bytes.length, bytes.length, worker);
    await hasher.update(bytes);
    expect(await hasher.finish(true)).toEqual(reference(bytes, bytes.length, true));
  });

  it('two blobs at once do not mix; an abandoned one leaves the next intact', async () => {
    const dropped = blobHasher(KEY, 10, 100, worker);
    await dropped.update(randomBytes(50));
    dropped.abandon();
    const a = randomBytes(3 * 1024 * 1024);
    const b = randomBytes(2 * 1024 * 1024 + 1);
    const [ha, hb] = await Promise.all([
      hashed(a, 1000, worker, 65_536),
      hashed(b, b.length, worker, 100_003),
    ]);
    expect(ha).toEqual(reference(a, 1000));
    expect(hb).toEqual(reference(b, b.length));
  });
});

describe('a large file is sealed with its hashing on the worker', () => {
  it('the blob opens to the same bytes and its digest is the SHA-256 of the file', async () => {
    const size = HASH_WORKER_MIN_BYTES + 12_345;
    const plain = randomBytes(size);
    const path = join(tempDir(), 'blob');
    const key = randomBytes(64);
    const chunks = [plain.subarray(0, 1_000_000), plain.subarray(1_000_000)];
    const { digest } = await encryptToFile(chunks, size, key, path);
    expect(digest.equals(createHash('sha256').update(readFileSync(path)).digest())).toBe(true);
    const out: Buffer[] = [];
    for await (const chunk of openBlob(path, { size, digest, key })) out.push(chunk);
    expect(Buffer.concat(out).equals(plain)).toBe(true);
  });
});
