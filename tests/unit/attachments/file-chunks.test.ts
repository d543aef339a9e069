import { randomBytes } from 'node:crypto';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { describe, expect, it } from 'vitest';
import {
  FileSink,
  gathered,
  readChunks,
  writeChunks,
} from '../../../electron/core/attachments/file-chunks.ts';
import { rejectedCode } from '../../support/errors.ts';
import { tempDir } from '../../support/profiles.ts';

// The attachment path's file I/O: reads of exact ranges with the next read in
// flight, writes with one in flight. Every byte in order, nothing kept open.

async function collect(chunks: AsyncIterable<Uint8Array>): Promise<Buffer[]> {
  const out: Buffer[] = [];
  for await (const chunk of chunks) out.push(Buffer.from(chunk));
  return out;
}

describe('readChunks', () => {
  const bytes = randomBytes(10_000);
  const file = () => {
    const path = join(tempDir(), 'f');
    writeFileSync(path, bytes);
    return path;
  };

  it.each([
    [0, 10_000, 4096],
    [1, 9_999, 4096],
    [4096, 8192, 4096],
    [0, 10_000, 10_000],
    [0, 10_000, 1],
  ])(
    'bytes [%i, %i) in chunks of %i: exactly those bytes, no chunk larger',
    async (start, end, step) => {
      const chunks = await collect(readChunks(file(), start, end, step));
      expect(Buffer.concat(chunks).equals(bytes.subarray(start, end))).toBe(true);
      expect(Math.max(...chunks.map((c) => c.length))).toBeLessThanOrEqual(step);
    },
  );

  it('a range past the end of the file ends at the end; an empty range opens nothing', async () => {
    expect(Buffer.concat(await collect(readChunks(file(), 9_000, 20_000, 512))).length).toBe(1_000);
    // No file at all: an empty range never opens it.
    expect(await collect(readChunks(join(tempDir(), 'missing'), 5, 5))).toEqual([]);
    expect(await rejectedCode(() => collect(readChunks(join(tempDir(), 'missing'))))).toBe(
      'ENOENT',
    );
  });

  it('each chunk is its own buffer: a consumer that keeps them sees no later bytes in them', async () => {
    const chunks: Buffer[] = [];
    for await (const chunk of readChunks(file(), 0, 10_000, 1000)) chunks.push(chunk);
    expect(Buffer.concat(chunks).equals(bytes)).toBe(true);
  });

  it('a consumer that stops early closes the file with the read in flight settled', async () => {
    for await (const chunk of readChunks(file(), 0, 10_000, 100)) {
      expect(chunk.length).toBe(100);
      break;
    }
  });
});

describe('FileSink and writeChunks', () => {
  it('writes every chunk in order from `start`, appending to what the file holds', async () => {
    const path = join(tempDir(), 'out');
    writeFileSync(path, 'head:');
    const parts = [randomBytes(3000), Buffer.alloc(0), randomBytes(1)];
    const written = await writeChunks(parts, path, { flags: 'a', start: 5, sync: true });
    expect(written).toBe(5 + 3001);
    expect(readFileSync(path).equals(Buffer.concat([Buffer.from('head:'), ...parts]))).toBe(true);
  });

  it("'wx' refuses an existing file; a failing source leaves the file closed with what came before", async () => {
    const dir = tempDir();
    writeFileSync(join(dir, 'there'), 'keep');
    expect(
      await rejectedCode(() =>
        writeChunks([Buffer.from('x')], join(dir, 'there'), { flags: 'wx', sync: false }),
      ),
    ).toBe('EEXIST');
    expect(readFileSync(join(dir, 'there'), 'utf8')).toBe('keep');
    async function* failing() {
      yield Buffer.from('first');
      await Promise.resolve();
      throw Object.assign(new Error('source broke'), { code: 'SOURCE' });
    }
    expect(
      await rejectedCode(() => writeChunks(failing(), join(dir, 'cut'), { sync: false })),
    ).toBe('SOURCE');
    expect(readFileSync(join(dir, 'cut'), 'utf8')).toBe('first');
  });

  it('a write that fails (a read-only handle) surfaces on the next write or on close', async () => {
    const path = join(tempDir(), 'ro');
    writeFileSync(path, '');
    const sink = await FileSink.open(path, 'r');
    await sink.write(Buffer.from('x'));
    expect(await rejectedCode(() => sink.close(true))).toBe('EBADF');
  });
});

describe('gathered', () => {
  it('joins small pieces into pieces of at least the size asked, the last one shorter, every byte in order', async () => {
    const pieces = Array.from({ length: 37 }, () => randomBytes(1000));
    const out = await collect(gathered(Readable.from(pieces), 4096));
    expect(out.map((p) => p.length)).toEqual([...Array<number>(7).fill(5000), 2000]);
    expect(Buffer.concat(out).equals(Buffer.concat(pieces))).toBe(true);
  });

  it('a piece already as large as asked passes through uncopied; an empty source gives nothing', async () => {
    const big = randomBytes(8192);
    const out: Uint8Array[] = [];
    for await (const piece of gathered(Readable.from([big]), 4096)) out.push(piece);
    expect(out).toHaveLength(1);
    expect(out[0]).toBe(big);
    expect(await collect(gathered(Readable.from([]), 4096))).toEqual([]);
  });
});
