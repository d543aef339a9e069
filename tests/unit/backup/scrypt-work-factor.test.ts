import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { AgeFileReader, AgeFileWriter } from '../../../electron/core/backup/age/file.ts';
import {
  MAX_SCRYPT_LOG_N,
  parseHeader,
  writeHeader,
} from '../../../electron/core/backup/age/header.ts';
import { rejectedCode, thrownCode } from '../../support/errors.ts';
import { tempDir } from '../../support/profiles.ts';

// Issue 9: a crafted header asking for scrypt 2^22 cost 42 s and 4.3 GB before
// failing with a misleading wrong-passphrase error. A work factor above 20 is
// refused while the header is parsed, before any derivation.

const PASSPHRASE = 'work factor test passphrase';

/** A real file (work factor 10) whose header then claims `logN`: the MAC no longer matches, but nothing should get that far. */
async function claiming(logN: string): Promise<string> {
  const path = join(tempDir(), `claims-${logN}.age`);
  const writer = await AgeFileWriter.create(path, PASSPHRASE, { scryptLogN: 10 });
  await writer.write(Buffer.from('payload\n'));
  await writer.commit();
  const bytes = readFileSync(path);
  const text = bytes.toString('latin1');
  const lineEnd = text.indexOf('\n', text.indexOf('\n') + 1);
  const edited = `${text.slice(0, lineEnd).replace(/ 10$/, ` ${logN}`)}${text.slice(lineEnd)}`;
  expect(edited).not.toBe(text);
  writeFileSync(path, Buffer.from(edited, 'latin1'));
  return path;
}

describe('the scrypt work factor of a backup header', () => {
  it('is capped at 20: Sotto writes 18, age 18; 21 and above are BACKUP_UNSUPPORTED_VERSION at parse time', async () => {
    expect(MAX_SCRYPT_LOG_N).toBe(20);
    const { header } = await writeHeader(PASSPHRASE, 10);
    const withFactor = (n: number) =>
      Buffer.from(header.toString('latin1').replace(/ 10\n/, ` ${n}\n`), 'latin1');
    expect(parseHeader(withFactor(20), false).logN).toBe(20);
    expect(parseHeader(withFactor(1), false).logN).toBe(1);
    for (const n of [21, 22, 30, 64, 1000, 2 ** 53])
      expect([n, thrownCode(() => parseHeader(withFactor(n), false))]).toEqual([
        n,
        'BACKUP_UNSUPPORTED_VERSION',
      ]);
    // Not a number in age's syntax is a malformed header, as before.
    for (const bad of ['0', '018', '-1', '1e3', '']) {
      const text = header.toString('latin1').replace(/ 10\n/, ` ${bad}\n`);
      expect([bad, thrownCode(() => parseHeader(Buffer.from(text, 'latin1'), false))]).toEqual([
        bad,
        'BACKUP_TAMPERED',
      ]);
    }
  });

  it('a file claiming 2^21, 2^22 or 2^40 is refused in well under a second, whatever the passphrase', async () => {
    for (const logN of ['21', '22', '40']) {
      const path = await claiming(logN);
      for (const passphrase of [PASSPHRASE, 'not the passphrase']) {
        const started = performance.now();
        expect(await rejectedCode(() => AgeFileReader.open(path, passphrase))).toBe(
          'BACKUP_UNSUPPORTED_VERSION',
        );
        // scrypt at 2^21 alone takes seconds and 2 GiB: this bound shows no derivation ran.
        expect(performance.now() - started).toBeLessThan(500);
      }
    }
  });

  it('Sotto does not write what it would not read', async () => {
    await expect(writeHeader(PASSPHRASE, MAX_SCRYPT_LOG_N + 1)).rejects.toThrow(RangeError);
  });
});
