import { randomBytes } from 'node:crypto';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { Decrypter, Encrypter } from 'age-encryption';
import { describe, expect, it } from 'vitest';
import { AgeFileReader, AgeFileWriter } from '../../../electron/core/backup/age/file.ts';
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
  for (let i = 0; i < plaintext.length; i += step) await writer.write(plaintext.subarray(i, i + step));
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

  it('the temporary file is gone after abort, and no target appears', async () => {
    const dir = tempDir();
    const writer = await AgeFileWriter.create(join(dir, 'x.age'), PASSPHRASE, { scryptLogN: LOG_N });
    await writer.write(randomBytes(10));
    await writer.abort();
    const { readdirSync } = await import('node:fs');
    expect(readdirSync(dir)).toEqual([]);
  });
});
