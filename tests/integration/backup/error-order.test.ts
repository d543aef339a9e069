import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { IdentityKeyPair } from '@signalapp/libsignal-client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { exportBackup, importBackup, Profile, verifyBackup } from '../../../electron/core/index.ts';
import { AgeFileWriter } from '../../../electron/core/backup/age/file.ts';
import { SEALED_CHUNK } from '../../../electron/core/backup/age/payload.ts';
import {
  addHistory,
  BACKUP_PASSPHRASE,
  readBackupLines,
  TEST_SCRYPT_LOG_N,
  writeBackupLines,
} from '../../support/backup.ts';
import { rejectedCode } from '../../support/errors.ts';
import { snapshotDir, TEST_KDF } from '../../support/profiles.ts';

// docs/backup-format.md, "Errors": the table of what is checked in which
// order, row by row. Each case breaks a file in two ways and shows that the
// row's check wins over the later one, as the doc says.

const WRONG = 'definitely not the backup passphrase';
let root: string;
let profileDir: string;
let original: Buffer;
let lines: string[];
let headerLength: number;
let payload: number;
let before: Record<string, string>;
const profilePassphrase = 'error order profile passphrase';

beforeAll(async () => {
  root = mkdtempSync(join(tmpdir(), 'sotto-backup-order-'));
  profileDir = join(root, 'profile');
  const profile = await Profile.create(profileDir, {
    displayName: 'Orderly',
    passphrase: profilePassphrase,
    kdfCost: TEST_KDF,
  });
  addHistory(profile, 1500, { contacts: 3 });
  const file = join(root, 'good.age');
  await exportBackup(profile, file, {
    passphrase: BACKUP_PASSPHRASE,
    scryptLogN: TEST_SCRYPT_LOG_N,
  });
  await profile.close();
  original = readFileSync(file);
  lines = await readBackupLines(file);
  headerLength = original.indexOf('\n', original.indexOf('\n---') + 1) + 1;
  payload = headerLength + 16;
  before = snapshotDir(profileDir);
});
afterAll(() => rmSync(root, { recursive: true, force: true }));

let counter = 0;
function variant(bytes: Uint8Array): string {
  const path = join(root, `variant-${++counter}.age`);
  writeFileSync(path, bytes);
  return path;
}
const cut = (bytes: Buffer, at: number) => bytes.subarray(0, at);
const flipped = (bytes: Buffer, at: number) => {
  const copy = Buffer.from(bytes);
  copy[at] = copy[at]! ^ 0x01;
  return copy;
};
/**
 * The header MAC with one base64 character changed to another base64
 * character: a wrong MAC, not a malformed header (a bit flip can leave the
 * base64 alphabet, e.g. 'A' to '@', and a random MAC made this test flaky).
 */
const macAltered = (bytes: Buffer) => {
  const copy = Buffer.from(bytes);
  const at = headerLength - 5;
  copy[at] = copy[at] === 0x41 ? 0x42 : 0x41; // 'A' <-> 'B'
  return copy;
};
const headerText = () => original.subarray(0, headerLength).toString('latin1');
const withHeader = (text: string, rest = original.subarray(headerLength)) =>
  Buffer.concat([Buffer.from(text, 'latin1'), rest]);

/** What verify, a deep verify and a merge import each fail with; the profile is unchanged and no new profile appears. */
async function codes(path: string, passphrase = BACKUP_PASSPHRASE) {
  const verify = await rejectedCode(() => verifyBackup(path, passphrase));
  const deep = await rejectedCode(() => verifyBackup(path, passphrase, { deep: true }));
  const merge = await rejectedCode(() =>
    importBackup(profileDir, path, { passphrase, unlock: { passphrase: profilePassphrase } }),
  );
  const fresh = join(root, `fresh-${counter}`);
  const create = await rejectedCode(() =>
    importBackup(fresh, path, {
      passphrase,
      create: { passphrase: 'fresh harbour kettle 5521', kdfCost: TEST_KDF },
    }),
  );
  expect(snapshotDir(profileDir)).toEqual(before);
  expect(existsSync(fresh)).toBe(false);
  return { verify, deep, merge, create };
}
const all = (code: string) => ({ verify: code, deep: code, merge: code, create: code });

/** A backup written from `edited` lines (full chunks, as Sotto writes), at least three chunks long. */
async function written(edited: string[]): Promise<Buffer> {
  const path = join(root, `written-${++counter}.age`);
  await writeBackupLines(path, edited);
  const bytes = readFileSync(path);
  expect(bytes.length).toBeGreaterThan(payload + 3 * SEALED_CHUNK);
  return bytes;
}

describe('backup errors are checked in the documented order', () => {
  it('row 1: not an age file beats everything, even a cut', async () => {
    expect(await codes(variant(Buffer.from('PK\u0003\u0004 not an age file\n')), WRONG)).toEqual(
      all('BACKUP_TAMPERED'),
    );
    expect(await codes(variant(Buffer.from('hello')), WRONG)).toEqual(all('BACKUP_TAMPERED'));
  });

  it('row 2: another age version beats a cut header and a wrong passphrase', async () => {
    const v2 = withHeader(headerText().replace('age-encryption.org/v1', 'age-encryption.org/v2'));
    expect(await codes(variant(cut(v2, 40)), WRONG)).toEqual(all('BACKUP_UNSUPPORTED_VERSION'));
  });

  it('row 3: a non-printable header byte beats a cut header', async () => {
    const binary = withHeader(headerText().replace('-> scrypt', '-> scr\u0001pt'));
    expect(await codes(variant(cut(binary, binary.indexOf('\n---') - 3)), WRONG)).toEqual(
      all('BACKUP_TAMPERED'),
    );
    expect(
      await codes(
        variant(
          Buffer.concat([Buffer.from('age-encryption.org/v1\n-> '), Buffer.alloc(17_000, 0x41)]),
        ),
        WRONG,
      ),
    ).toEqual(all('BACKUP_TAMPERED'));
  });

  it('row 4: a header cut short beats its malformed lines and a wrong passphrase', async () => {
    expect(await codes(variant(cut(original, headerLength - 20)), WRONG)).toEqual(
      all('BACKUP_TRUNCATED'),
    );
    const x25519 = withHeader(headerText().replace('-> scrypt', '-> X25519'));
    expect(await codes(variant(cut(x25519, x25519.indexOf('\n---') - 3)), WRONG)).toEqual(
      all('BACKUP_TRUNCATED'),
    );
  });

  it('row 5: a malformed header beats a too-high work factor and a wrong passphrase', async () => {
    const [first, recipient, ...rest] = headerText().split('\n');
    const parts = recipient!.split(' ');
    const badSalt = [first, `${parts[0]} ${parts[1]} ${parts[2]!.slice(0, -2)}!! 21`, ...rest].join(
      '\n',
    );
    expect(await codes(variant(withHeader(badSalt)), WRONG)).toEqual(all('BACKUP_TAMPERED'));
  });

  it('row 6: a work factor above 20 beats a wrong passphrase and a cut payload, and costs no derivation', async () => {
    const costly = withHeader(headerText().replace(` ${TEST_SCRYPT_LOG_N}\n`, ' 22\n'));
    const started = performance.now();
    expect(await codes(variant(cut(costly, costly.length - 1000)), WRONG)).toEqual(
      all('BACKUP_UNSUPPORTED_VERSION'),
    );
    expect(performance.now() - started).toBeLessThan(5000);
  });

  it('row 7: a file that ends before the payload nonce is cut, whatever the passphrase', async () => {
    expect(await codes(variant(cut(original, headerLength + 8)), WRONG)).toEqual(
      all('BACKUP_TRUNCATED'),
    );
  });

  it('row 8: a wrong passphrase beats everything in the payload and the header MAC (the file key is needed to check them)', async () => {
    const cases = [
      cut(original, payload + SEALED_CHUNK + 100),
      cut(original, payload),
      flipped(original, payload + 5),
      Buffer.concat([original, Buffer.from('appended')]),
      macAltered(original),
    ];
    for (const bytes of cases)
      expect(await codes(variant(bytes), WRONG)).toEqual(all('WRONG_BACKUP_PASSPHRASE'));
  });

  it('row 9: a header MAC mismatch beats any fault of the payload', async () => {
    const badMac = macAltered(original);
    expect(await codes(variant(cut(badMac, payload + SEALED_CHUNK + 100)))).toEqual(
      all('BACKUP_TAMPERED'),
    );
    expect(await codes(variant(Buffer.concat([badMac, Buffer.from('appended')])))).toEqual(
      all('BACKUP_TAMPERED'),
    );
  });

  it('row 10a: in the payload the first fault in file order wins: an altered chunk before a cut, before appended bytes', async () => {
    expect(
      await codes(variant(cut(flipped(original, payload + 10), original.length - 100))),
    ).toEqual(all('BACKUP_TAMPERED'));
    expect(
      await codes(
        variant(
          Buffer.concat([flipped(original, payload + SEALED_CHUNK + 10), Buffer.from('appended')]),
        ),
      ),
    ).toEqual(all('BACKUP_TAMPERED'));
    // The cut comes first in the file: a chunk boundary cut with bytes altered nowhere else.
    expect(await codes(variant(cut(original, payload + SEALED_CHUNK)))).toEqual(
      all('BACKUP_TRUNCATED'),
    );
  });

  it("row 10b: the manifest's version is read from the first chunk: a newer version beats a cut later in the file", async () => {
    const newer = await written([
      lines[0]!.replace('"version":7,', '"version":8,'),
      ...lines.slice(1),
    ]);
    expect(await codes(variant(cut(newer, newer.length - 100)))).toEqual(
      all('BACKUP_UNSUPPORTED_VERSION'),
    );
  });

  it("row 10c: another account's manifest stops a merge at the first chunk; verify and a new profile go on to find the cut", async () => {
    const other = await Profile.create(join(root, 'other'), {
      displayName: 'Other',
      passphrase: 'other harbour lanterns',
      kdfCost: TEST_KDF,
    });
    addHistory(other, 1500, { contacts: 2 });
    const file = join(root, 'other.age');
    await exportBackup(other, file, {
      passphrase: BACKUP_PASSPHRASE,
      scryptLogN: TEST_SCRYPT_LOG_N,
    });
    await other.close();
    const bytes = readFileSync(file);
    expect(await codes(variant(cut(bytes, bytes.length - 100)))).toEqual({
      verify: 'BACKUP_TRUNCATED',
      deep: 'BACKUP_TRUNCATED',
      merge: 'BACKUP_WRONG_ACCOUNT',
      create: 'BACKUP_TRUNCATED',
    });
  });

  it('rows 10d and 10e: a record fault in an early chunk beats a cut later; schema and JSON rules need a deep read, order does not', async () => {
    const contact = lines.findIndex((l) => l.startsWith('{"type":"contact"'));
    const duplicated = [...lines];
    duplicated[contact] = duplicated[contact]!.replace(
      '"createdAt":',
      '"createdAt":1,"createdAt":',
    );
    const dup = await written(duplicated);
    expect(await codes(variant(cut(dup, dup.length - 100)))).toEqual({
      verify: 'BACKUP_TRUNCATED',
      deep: 'BACKUP_TAMPERED',
      merge: 'BACKUP_TAMPERED',
      create: 'BACKUP_TAMPERED',
    });
    const reordered = [...lines];
    const [moved] = reordered.splice(contact, 1);
    reordered.splice(1, 0, moved!);
    const order = await written(reordered);
    expect(await codes(variant(cut(order, order.length - 100)))).toEqual(all('BACKUP_TAMPERED'));
  });

  it('row 10e: a contact key that does not derive its id beats a cut later (deep reads and imports)', async () => {
    const contact = lines.findIndex(
      (l) => l.startsWith('{"type":"contact"') && l.includes('"publicKey"'),
    );
    const forged = [...lines];
    const record = JSON.parse(forged[contact]!) as { identity: { publicKey: string } };
    record.identity.publicKey = Buffer.from(
      IdentityKeyPair.generate().publicKey.serialize(),
    ).toString('base64');
    forged[contact] = JSON.stringify(record);
    const bytes = await written(forged);
    expect(await codes(variant(cut(bytes, bytes.length - 100)))).toEqual({
      verify: 'BACKUP_TRUNCATED',
      deep: 'IDENTITY_MISMATCH',
      merge: 'IDENTITY_MISMATCH',
      create: 'IDENTITY_MISMATCH',
    });
  });

  it("row 11 (and 10d): at the end, no trailer is a cut; a trailer whose counts disagree with the manifest's is an alteration", async () => {
    expect(await codes(variant(await written(lines.slice(0, -1))))).toEqual(all('BACKUP_TAMPERED'));
    const path = join(root, 'no-trailer.age');
    const writer = await AgeFileWriter.create(path, BACKUP_PASSPHRASE, {
      scryptLogN: TEST_SCRYPT_LOG_N,
    });
    await writer.write(Buffer.from(lines.map((l) => `${l}\n`).join('')));
    await writer.commit();
    expect(await codes(path)).toEqual(all('BACKUP_TRUNCATED'));
  });
});
