import { randomBytes } from 'node:crypto';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { Decrypter, Encrypter } from 'age-encryption';
import { describe, expect, it } from 'vitest';
import { AgeFileReader, AgeFileWriter } from '../../../electron/core/backup/age/file.ts';
import { headerLength, writeHeader } from '../../../electron/core/backup/age/header.ts';
import { CHUNK } from '../../../electron/core/backup/age/payload.ts';
import { rejectedCode } from '../../support/errors.ts';
import { tempDir } from '../../support/profiles.ts';

// Our age v1 writer and reader against the independent `age-encryption`
// library, both directions. A low scrypt work factor is chosen explicitly.
const LOG_N = 10;
const PASSPHRASE = 'interop passphrase';

async function writeOurs(path: string, plaintext: Buffer, pieces = 3): Promise<void> {
  const writer = await AgeFileWriter.create(path, PASSPHRASE, { scryptLogN: LOG_N });
  const step = Math.ceil(plaintext.length / pieces) || 1;
  for (let i = 0; i < plaintext.length; i += step)
    await writer.write(plaintext.subarray(i, i + step));
  await writer.commit();
}

async function readOurs(path: string, passphrase = PASSPHRASE): Promise<Buffer> {
  const reader = await AgeFileReader.open(path, passphrase);
  const parts: Buffer[] = [];
  try {
    for (let chunk = await reader.next(); chunk; chunk = await reader.next()) parts.push(chunk);
  } finally {
    await reader.close();
  }
  return Buffer.concat(parts);
}

async function libraryEncrypt(plaintext: Uint8Array): Promise<Uint8Array> {
  const e = new Encrypter();
  e.setPassphrase(PASSPHRASE);
  e.setScryptWorkFactor(LOG_N);
  return e.encrypt(plaintext);
}

async function libraryDecrypt(file: Uint8Array): Promise<Uint8Array> {
  const d = new Decrypter();
  d.addPassphrase(PASSPHRASE);
  return d.decrypt(file);
}

const SIZES = [0, 1, CHUNK - 1, CHUNK, CHUNK + 1, 2 * CHUNK, 3 * CHUNK + 12_345];

describe('age v1 on Node crypto', () => {
  it.each(SIZES)('the age-encryption library decrypts what we write (%i bytes)', async (size) => {
    const path = join(tempDir(), 'ours.age');
    const plaintext = randomBytes(size);
    await writeOurs(path, plaintext);
    expect(Buffer.from(await libraryDecrypt(readFileSync(path))).equals(plaintext)).toBe(true);
  });

  it.each(SIZES)('we decrypt what the age-encryption library writes (%i bytes)', async (size) => {
    const path = join(tempDir(), 'theirs.age');
    const plaintext = randomBytes(size);
    writeFileSync(path, await libraryEncrypt(plaintext));
    expect((await readOurs(path)).equals(plaintext)).toBe(true);
  });

  it('a wrong passphrase is WRONG_BACKUP_PASSPHRASE and a cut file is BACKUP_TRUNCATED', async () => {
    const path = join(tempDir(), 'f.age');
    await writeOurs(path, randomBytes(2 * CHUNK));
    expect(await rejectedCode(() => readOurs(path, 'not it'))).toBe('WRONG_BACKUP_PASSPHRASE');
    const bytes = readFileSync(path);
    writeFileSync(path, bytes.subarray(0, bytes.length - 1));
    expect(await rejectedCode(() => readOurs(path))).toBe('BACKUP_TRUNCATED');
  });

  it('the header length depends only on the work factor (what lets the writer reserve its gap)', async () => {
    for (const logN of [1, 9, 10, 12]) {
      const lengths = new Set<number>();
      for (let i = 0; i < 4; i++) lengths.add((await writeHeader(PASSPHRASE, logN)).header.length);
      expect([...lengths]).toEqual([headerLength(logN)]);
    }
    expect(headerLength(18)).toBe(headerLength(10));
    expect(headerLength(9)).toBe(headerLength(10) - 1);
    expect(() => headerLength(21)).toThrow(RangeError);
  });

  it('the payload is sealed and written while scrypt runs; the header goes into its reserved gap last', async () => {
    const { readdirSync } = await import('node:fs');
    const dir = tempDir();
    const target = join(dir, 'overlap.age');
    // Age's own cost (2^18: 256 MiB, a second or more here) against 4 MiB of sealing: the margin is wide.
    const writer = await AgeFileWriter.create(target, PASSPHRASE, { scryptLogN: 18 });
    const plaintext = randomBytes(4 * 1024 * 1024);
    // The second write returns once the first batch is on disk (one batch in flight at a time).
    await writer.write(plaintext.subarray(0, 3 * 1024 * 1024));
    await writer.write(plaintext.subarray(3 * 1024 * 1024));
    const partial = readFileSync(join(dir, readdirSync(dir)[0]!));
    const gap = headerLength(18);
    // Payload already on disk after the gap, the gap still empty: the header is not known yet.
    expect(partial.length).toBeGreaterThan(gap + 2 * 1024 * 1024);
    expect(partial.subarray(0, gap).every((b) => b === 0)).toBe(true);
    await writer.commit();
    const file = readFileSync(target);
    expect(file.subarray(0, gap).toString('latin1')).toMatch(
      /^age-encryption\.org\/v1\n-> scrypt \S{22} 18\n\S{43}\n--- \S{43}\n$/,
    );
    // Our reader (native scrypt); the tests above show the age-encryption library reads this layout too.
    expect((await readOurs(target)).equals(plaintext)).toBe(true);
  }, 60_000);

  it('the temporary file is gone after abort, and no target appears', async () => {
    const dir = tempDir();
    const writer = await AgeFileWriter.create(join(dir, 'x.age'), PASSPHRASE, {
      scryptLogN: LOG_N,
    });
    await writer.write(randomBytes(10));
    await writer.abort();
    const { readdirSync } = await import('node:fs');
    expect(readdirSync(dir)).toEqual([]);
  });
});
