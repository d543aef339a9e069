import { createCipheriv, createHash, hkdfSync, randomBytes } from 'node:crypto';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import {
  encryptToFile,
  sealToFiles,
} from '../../../electron/core/attachments/attachment-crypto.ts';
import {
  AT_REST_CHUNK_BYTES,
  AT_REST_TAG_BYTES,
  atRestLayout,
  AtRestSealer,
  readAtRest,
} from '../../../electron/core/attachments/at-rest.ts';
import { paddedSize } from '../../../shared/protocol/attachment.ts';
import { rejectedCode, thrownCode } from '../../support/errors.ts';
import { tempDir } from '../../support/profiles.ts';

// The chunked at-rest format against an independent one-shot reference
// (docs/architecture.md#at-rest-format), range reads over many random ranges,
// and every way a file on disk can be altered: each ATTACHMENT_TAMPERED with
// no byte of an altered chunk ever yielded.

const CHUNK = AT_REST_CHUNK_BYTES;
const SEALED = CHUNK + AT_REST_TAG_BYTES;
const KEY = Buffer.from(Array.from({ length: 64 }, (_, i) => 255 - i));
const SIZES = [0, 1, 541, CHUNK - 1, CHUNK, CHUNK + 1, 3 * CHUNK, 300_001];

function plaintextOf(size: number): Buffer {
  return createHash('shake256', { outputLength: size }).update(`at rest ${size}`).digest();
}

/** The format written out from its description alone, with optional non-zero padding. */
function reference(plain: Buffer, key: Buffer, padByte = 0): Buffer {
  const padded = Buffer.concat([
    plain,
    Buffer.alloc(paddedSize(plain.length) - plain.length, padByte),
  ]);
  const aesKey = Buffer.from(
    hkdfSync('sha256', key, Buffer.alloc(0), 'sotto attachment at rest v1', 32),
  );
  const chunks = Math.ceil(padded.length / CHUNK);
  const out: Buffer[] = [];
  for (let i = 0; i < chunks; i++) {
    const nonce = Buffer.alloc(12);
    nonce.writeUIntBE(i, 5, 6);
    nonce[11] = i === chunks - 1 ? 1 : 0;
    const cipher = createCipheriv('aes-256-gcm', aesKey, nonce);
    out.push(cipher.update(padded.subarray(i * CHUNK, (i + 1) * CHUNK)), cipher.final());
    out.push(cipher.getAuthTag());
  }
  return Buffer.concat(out);
}

function slices(bytes: Buffer, size: number): Buffer[] {
  const out: Buffer[] = [];
  for (let i = 0; i < bytes.length; i += size) out.push(bytes.subarray(i, i + size));
  return out;
}

async function collect(chunks: AsyncIterable<Buffer>): Promise<Buffer> {
  const out: Buffer[] = [];
  for await (const chunk of chunks) out.push(chunk);
  return Buffer.concat(out);
}

/** A stored copy of `plain` on disk, and what opens it. */
async function stored(plain: Buffer, key = KEY) {
  const path = join(tempDir(), 'copy');
  await sealToFiles(slices(plain, 1 << 20), [
    { sealer: new AtRestSealer(plain.length, key), path },
  ]);
  return { path, size: plain.length, key };
}

/** What a read yields before it fails, and the code it fails with. */
async function readUntilFailure(
  chunks: AsyncIterable<Buffer>,
): Promise<[Buffer, string | undefined]> {
  const out: Buffer[] = [];
  const code = await rejectedCode(async () => {
    for await (const chunk of chunks) out.push(chunk);
  });
  return [Buffer.concat(out), code];
}

describe('the at-rest format', () => {
  it.each(SIZES)(
    '%i bytes: matches the reference in any chunking, and reads back',
    async (size) => {
      const plain = plaintextOf(size);
      const expected = reference(plain, KEY);
      expect(expected.length).toBe(atRestLayout(size).length);
      for (const piece of [7_777, CHUNK, 1 << 20]) {
        const sealer = new AtRestSealer(size, KEY);
        const out = Buffer.concat([
          ...slices(plain, piece).map((s) => sealer.update(s)),
          sealer.finish(),
        ]);
        expect(out.equals(expected), `pieces of ${piece}`).toBe(true);
      }
      const file = await stored(plain);
      expect(readFileSync(file.path).equals(expected)).toBe(true);
      expect((await collect(readAtRest(file, 0, size, true))).equals(plain)).toBe(true);
    },
  );

  it('a file that grows or shrinks while read is INVALID_INPUT', () => {
    const plain = plaintextOf(100);
    const grew = new AtRestSealer(99, KEY);
    expect(thrownCode(() => grew.update(plain))).toBe('INVALID_INPUT');
    const shrank = new AtRestSealer(101, KEY);
    shrank.update(plain);
    expect(thrownCode(() => shrank.finish())).toBe('INVALID_INPUT');
  });

  it('range reads are byte-identical over many random ranges, across chunk boundaries', async () => {
    const plain = plaintextOf(5 * CHUNK + 1234);
    const file = await stored(plain);
    const edges = [0, 1, CHUNK - 1, CHUNK, CHUNK + 1, 2 * CHUNK, plain.length - 1, plain.length];
    const ranges: [number, number][] = [[0, plain.length]];
    for (const a of edges) for (const b of edges) if (a < b) ranges.push([a, b]);
    let seed = 12345;
    const random = (n: number) => {
      seed = (seed * 1103515245 + 12345) % 2 ** 31;
      return seed % n;
    };
    for (let i = 0; i < 200; i++) {
      const start = random(plain.length);
      ranges.push([start, start + 1 + random(Math.min(plain.length - start, 3 * CHUNK))]);
    }
    for (const [start, end] of ranges) {
      const got = await collect(readAtRest(file, start, end));
      expect(got.equals(plain.subarray(start, end)), `${start}-${end}`).toBe(true);
    }
    expect((await collect(readAtRest(file, 10, 10))).length).toBe(0);
  });

  describe('an altered file is ATTACHMENT_TAMPERED, nothing of an altered chunk served', () => {
    const plain = plaintextOf(4 * CHUNK + 999);

    async function altered(change: (bytes: Buffer) => Buffer) {
      const file = await stored(plain);
      writeFileSync(file.path, change(readFileSync(file.path)));
      return file;
    }

    it('a flipped byte in a chunk: reads touching it fail, others still work', async () => {
      for (const at of [0, 5, CHUNK - 1, SEALED + 100, 2 * SEALED + CHUNK + 3]) {
        const file = await altered((b) => {
          b[at]! ^= 0x01;
          return b;
        });
        const chunk = Math.floor(at / SEALED);
        const [before, code] = await readUntilFailure(readAtRest(file, 0, plain.length, true));
        expect(code, `byte ${at}`).toBe('ATTACHMENT_TAMPERED');
        // What came before the failure is the untouched chunks before it, exactly.
        expect(before.equals(plain.subarray(0, chunk * CHUNK)), `byte ${at}`).toBe(true);
        const inChunk = readAtRest(file, chunk * CHUNK + 1, chunk * CHUNK + 2);
        expect(await rejectedCode(() => collect(inChunk))).toBe('ATTACHMENT_TAMPERED');
        const other = chunk === 3 ? 0 : 3;
        const untouched = await collect(readAtRest(file, other * CHUNK, other * CHUNK + 10));
        expect(untouched.equals(plain.subarray(other * CHUNK, other * CHUNK + 10))).toBe(true);
      }
    });

    it('two chunks swapped', async () => {
      const file = await altered((b) =>
        Buffer.concat([
          b.subarray(SEALED, 2 * SEALED),
          b.subarray(0, SEALED),
          b.subarray(2 * SEALED),
        ]),
      );
      for (const [start, end] of [
        [0, 10],
        [CHUNK, CHUNK + 10],
      ] as const)
        expect(await rejectedCode(() => collect(readAtRest(file, start, end)))).toBe(
          'ATTACHMENT_TAMPERED',
        );
    });

    it('truncated at a chunk boundary, an appended chunk, a duplicated chunk: any read fails', async () => {
      const length = atRestLayout(plain.length).length;
      const lastStart = (atRestLayout(plain.length).chunks - 1) * SEALED;
      for (const change of [
        (b: Buffer) => b.subarray(0, lastStart),
        (b: Buffer) => b.subarray(0, SEALED),
        (b: Buffer) => Buffer.concat([b, b.subarray(0, SEALED)]),
        (b: Buffer) =>
          Buffer.concat([b.subarray(0, lastStart), b.subarray(0, SEALED), b.subarray(lastStart)]),
        (b: Buffer) => Buffer.concat([b, Buffer.alloc(1)]),
      ]) {
        const file = await altered(change);
        expect(readFileSync(file.path).length).not.toBe(length);
        for (const [start, end] of [
          [0, 1],
          [0, plain.length],
        ] as const) {
          const [got, code] = await readUntilFailure(readAtRest(file, start, end));
          expect([got.length, code]).toEqual([0, 'ATTACHMENT_TAMPERED']);
        }
      }
    });

    it('the last chunk replayed in place of an earlier one, and a chunk from another file', async () => {
      const other = await stored(plaintextOf(plain.length + 1).subarray(1), randomBytes(64));
      const foreign = readFileSync(other.path).subarray(SEALED, 2 * SEALED);
      const file = await altered((b) =>
        Buffer.concat([b.subarray(0, SEALED), foreign, b.subarray(2 * SEALED)]),
      );
      expect(await rejectedCode(() => collect(readAtRest(file, CHUNK, CHUNK + 1)))).toBe(
        'ATTACHMENT_TAMPERED',
      );
      expect((await collect(readAtRest(file, 0, 5))).equals(plain.subarray(0, 5))).toBe(true);
    });

    it("the wrong key (another row's), on every chunk", async () => {
      const file = await stored(plain);
      for (const key of [randomBytes(64), Buffer.concat([KEY.subarray(0, 63), Buffer.from([0])])]) {
        for (const start of [0, CHUNK, 4 * CHUNK]) {
          const read = readAtRest({ ...file, key }, start, start + 1);
          expect(await rejectedCode(() => collect(read))).toBe('ATTACHMENT_TAMPERED');
        }
      }
    });

    it('a file in the other format (the AttachmentV2 blob under the same key) is refused', async () => {
      const file = await stored(plain);
      await encryptToFile([plain], plain.length, KEY, file.path);
      for (const [start, end] of [
        [0, 1],
        [CHUNK, CHUNK + 1],
      ] as const)
        expect(await rejectedCode(() => collect(readAtRest(file, start, end)))).toBe(
          'ATTACHMENT_TAMPERED',
        );
      // The same length, other bytes: the tags still refuse it.
      writeFileSync(file.path, randomBytes(atRestLayout(plain.length).length));
      expect(await rejectedCode(() => collect(readAtRest(file, 0, 1)))).toBe('ATTACHMENT_TAMPERED');
    });

    it('padding that is not zeros fails a whole-file read (the plaintext range still reads)', async () => {
      const file = await stored(plain);
      writeFileSync(file.path, reference(plain, KEY, 7));
      const [got, code] = await readUntilFailure(readAtRest(file, 0, plain.length, true));
      expect(code).toBe('ATTACHMENT_TAMPERED');
      expect(got.length).toBeLessThanOrEqual(plain.length);
      expect((await collect(readAtRest(file, 0, plain.length))).equals(plain)).toBe(true);
    });
  });
});
