import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { Decrypter, Encrypter } from 'age-encryption';
import { beforeAll, describe, expect, it } from 'vitest';
import { exportBackup, importBackup, Profile, verifyBackup } from '../../../electron/core/index.ts';
import { SEALED_CHUNK } from '../../../electron/core/backup/age/payload.ts';
import { addHistory, BACKUP_PASSPHRASE, TEST_SCRYPT_LOG_N } from '../../support/backup.ts';
import { runCli } from '../../support/cli.ts';
import { rejectedCode } from '../../support/errors.ts';
import { snapshotDir, TEST_KDF } from '../../support/profiles.ts';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { afterAll } from 'vitest';

// Every way a backup file can be wrong is refused with its own code, before
// anything is written: the existing profile stays byte-for-byte the same and
// no new profile directory appears.

let root: string;
let profileDir: string;
let profilePassphrase: string;
let original: Buffer;
let before: Record<string, string>;
let headerLength: number;

beforeAll(async () => {
  root = mkdtempSync(join(tmpdir(), 'sotto-backup-mutations-'));
  profileDir = join(root, 'profile');
  profilePassphrase = 'mutation profile passphrase';
  const profile = await Profile.create(profileDir, {
    displayName: 'Mallory Target',
    passphrase: profilePassphrase,
    kdfCost: TEST_KDF,
  });
  addHistory(profile, 1500, { contacts: 5 });
  const file = join(root, 'good.age');
  await exportBackup(profile, file, {
    passphrase: BACKUP_PASSPHRASE,
    scryptLogN: TEST_SCRYPT_LOG_N,
  });
  await profile.close();
  original = readFileSync(file);
  headerLength = original.indexOf('\n', original.indexOf('\n---') + 1) + 1;
  before = snapshotDir(profileDir);
});
afterAll(() => rmSync(root, { recursive: true, force: true }));

let counter = 0;
function variant(bytes: Uint8Array): string {
  const path = join(root, `variant-${++counter}.age`);
  writeFileSync(path, bytes);
  return path;
}

/** The code verify fails with, after checking that import fails the same way and writes nothing. */
async function refusal(path: string, passphrase = BACKUP_PASSPHRASE): Promise<string | undefined> {
  const verified = await rejectedCode(() => verifyBackup(path, passphrase));
  const merged = await rejectedCode(() =>
    importBackup(profileDir, path, { passphrase, unlock: { passphrase: profilePassphrase } }),
  );
  const fresh = join(root, `fresh-${counter}`);
  const created = await rejectedCode(() =>
    importBackup(fresh, path, {
      passphrase,
      create: { passphrase: 'fresh harbour kettle 5521', kdfCost: TEST_KDF },
    }),
  );
  expect(merged).toBe(verified);
  expect(created).toBe(verified);
  expect(snapshotDir(profileDir)).toEqual(before);
  expect(existsSync(fresh)).toBe(false);
  return verified;
}

function flipped(position: number): Buffer {
  const copy = Buffer.from(original);
  copy[position] = copy[position]! ^ 0xff;
  return copy;
}

async function reencrypted(edit: (plaintext: string) => string): Promise<string> {
  const d = new Decrypter();
  d.addPassphrase(BACKUP_PASSPHRASE);
  const plaintext = await d.decrypt(original, 'text');
  const e = new Encrypter();
  e.setPassphrase(BACKUP_PASSPHRASE);
  e.setScryptWorkFactor(TEST_SCRYPT_LOG_N);
  return variant(await e.encrypt(edit(plaintext)));
}

describe('a damaged or wrong backup is refused before any write', () => {
  it('the intact file verifies (the baseline the mutations break)', async () => {
    expect((await verifyBackup(variant(original), BACKUP_PASSPHRASE)).counts.message).toBe(1500);
    expect(Math.floor((original.length - headerLength - 16) / SEALED_CHUNK)).toBeGreaterThanOrEqual(
      3,
    );
  });

  it('a byte flipped anywhere (header, stanza, MAC, nonce, every chunk, tags, boundaries) is BACKUP_TAMPERED', async () => {
    const payload = headerLength + 16;
    const chunks = Math.ceil((original.length - payload) / SEALED_CHUNK);
    const positions = new Set<number>([
      0,
      10,
      21,
      22,
      30,
      headerLength - 50,
      headerLength - 45,
      headerLength - 20,
      headerLength - 2,
      headerLength - 1,
    ]);
    for (let i = 0; i < 16; i += 5) positions.add(headerLength + i);
    for (let k = 0; k < chunks; k++) {
      const start = payload + k * SEALED_CHUNK;
      const end = Math.min(start + SEALED_CHUNK, original.length);
      for (const p of [start, start + 1, start + 40_000, end - 17, end - 16, end - 1])
        positions.add(p);
    }
    const codes = new Map<number, string | undefined>();
    for (const position of positions)
      codes.set(position, await refusal(variant(flipped(position))));
    expect([...codes].filter(([, code]) => code !== 'BACKUP_TAMPERED')).toEqual([]);
    expect(positions.size).toBeGreaterThan(40);
  });

  it('a file cut at, just before and just after chunk boundaries (or inside the header) is BACKUP_TRUNCATED', async () => {
    const payload = headerLength + 16;
    const cuts = new Set<number>([
      0,
      5,
      40,
      headerLength - 1,
      headerLength,
      headerLength + 8,
      payload,
      original.length - 1,
      original.length - 16,
      original.length - 17,
    ]);
    for (let k = 1; (k + 1) * SEALED_CHUNK < original.length - payload; k++) {
      for (const delta of [-17, -16, -1, 0, 1, 16, 17])
        cuts.add(payload + k * SEALED_CHUNK + delta);
    }
    const codes = new Map<number, string | undefined>();
    for (const cut of cuts) codes.set(cut, await refusal(variant(original.subarray(0, cut))));
    expect([...codes].filter(([, code]) => code !== 'BACKUP_TRUNCATED')).toEqual([]);
  });

  it('bytes appended after the final chunk (garbage, or a replayed final chunk) are BACKUP_TRAILING_DATA', async () => {
    const lastChunk = original.subarray(original.length - SEALED_CHUNK);
    for (const tail of [
      Buffer.from([0]),
      Buffer.alloc(16, 7),
      Buffer.from('trailing garbage\n'),
      lastChunk,
    ]) {
      expect(await refusal(variant(Buffer.concat([original, tail])))).toBe('BACKUP_TRAILING_DATA');
    }
  });

  it('a wrong passphrase (or a salt that is not the one it was made with) is WRONG_BACKUP_PASSPHRASE', async () => {
    expect(await refusal(variant(original), 'another passphrase entirely 42')).toBe(
      'WRONG_BACKUP_PASSPHRASE',
    );
    const text = original.subarray(0, headerLength).toString('latin1');
    const salt = text.split('\n')[1]!.split(' ')[2]!;
    const otherSalt = Buffer.from('0123456789abcdef').toString('base64').replace(/=+$/, '');
    const altered = Buffer.concat([
      Buffer.from(text.replace(salt, otherSalt), 'latin1'),
      original.subarray(headerLength),
    ]);
    expect(await refusal(variant(altered))).toBe('WRONG_BACKUP_PASSPHRASE');
  });

  it('a future age version or a future backup format version is BACKUP_UNSUPPORTED_VERSION', async () => {
    const ageV2 = Buffer.concat([
      Buffer.from('age-encryption.org/v2\n'),
      original.subarray(original.indexOf('\n') + 1),
    ]);
    expect(await refusal(variant(ageV2))).toBe('BACKUP_UNSUPPORTED_VERSION');
    const future = await reencrypted((text) =>
      text.replace('"version":7,', '"version":8,"newField":"x",'),
    );
    expect(await refusal(future)).toBe('BACKUP_UNSUPPORTED_VERSION');
    // Version 0 was never written: a version this reader does not know, like a newer one (not an alteration).
    const zero = await reencrypted((text) => text.replace('"version":7,', '"version":0,'));
    expect(await refusal(zero)).toBe('BACKUP_UNSUPPORTED_VERSION');
    // Not a version at all: the manifest is malformed.
    for (const version of ['-1', '1.5', '"2"', 'null']) {
      expect(
        await refusal(
          await reencrypted((text) => text.replace('"version":7,', `"version":${version},`)),
        ),
      ).toBe('BACKUP_TAMPERED');
    }
  });

  it('an authentic age file whose inner stream breaks the format is BACKUP_TAMPERED or BACKUP_TRUNCATED', async () => {
    const lines = (text: string) => text.replace(/\n+$/, '').split('\n');
    const join = (ls: string[]) => `${ls.join('\n')}\n`;
    // a record changed after the hash was taken
    expect(
      await refusal(
        await reencrypted((t) => t.replace('"status":"received"', '"status":"delivered"')),
      ),
    ).toBe('BACKUP_TAMPERED');
    // the trailer removed
    expect(await refusal(await reencrypted((t) => join(lines(t).slice(0, -1))))).toBe(
      'BACKUP_TRUNCATED',
    );
    // records out of order (a message before the contacts)
    expect(
      await refusal(
        await reencrypted((t) => {
          const ls = lines(t);
          const message = ls.findIndex((l) => l.startsWith('{"type":"message"'));
          const [m] = ls.splice(message, 1);
          ls.splice(1, 0, m!);
          return join(ls);
        }),
      ),
    ).toBe('BACKUP_TAMPERED');
    // something after the trailer
    expect(
      await refusal(await reencrypted((t) => `${t.replace(/\n+$/, '\n')}{"type":"message"}\n`)),
    ).toBe('BACKUP_TAMPERED');
  });

  it('a record that breaks its schema under a correct hash passes a plain verify but not --deep or an import', async () => {
    const { createHash } = await import('node:crypto');
    const path = await reencrypted((t) => {
      const body = t
        .slice(0, t.indexOf('{"type":"trailer"'))
        .replace('"outgoing":false', '"outgoing":"no"');
      const trailer = JSON.parse(t.slice(t.indexOf('{"type":"trailer"')).split('\n')[0]!) as {
        sha256: string;
      };
      trailer.sha256 = createHash('sha256').update(body, 'utf8').digest('hex');
      return `${body}${JSON.stringify(trailer)}\n`;
    });
    expect((await verifyBackup(path, BACKUP_PASSPHRASE)).counts.message).toBe(1500);
    expect(await rejectedCode(() => verifyBackup(path, BACKUP_PASSPHRASE, { deep: true }))).toBe(
      'BACKUP_TAMPERED',
    );
    expect(
      await rejectedCode(() =>
        importBackup(profileDir, path, {
          passphrase: BACKUP_PASSPHRASE,
          unlock: { passphrase: profilePassphrase },
        }),
      ),
    ).toBe('BACKUP_TAMPERED');
    expect(snapshotDir(profileDir)).toEqual(before);
  });

  it('a valid backup of another account is BACKUP_WRONG_ACCOUNT for an existing profile', async () => {
    const other = await Profile.create(join(root, 'other'), {
      displayName: 'Other',
      passphrase: 'other harbour lanterns',
      kdfCost: TEST_KDF,
    });
    const file = join(root, 'other.age');
    await exportBackup(other, file, {
      passphrase: BACKUP_PASSPHRASE,
      scryptLogN: TEST_SCRYPT_LOG_N,
    });
    await other.close();
    expect(
      await rejectedCode(() =>
        importBackup(profileDir, file, {
          passphrase: BACKUP_PASSPHRASE,
          unlock: { passphrase: profilePassphrase },
        }),
      ),
    ).toBe('BACKUP_WRONG_ACCOUNT');
    expect(snapshotDir(profileDir)).toEqual(before);
  });

  it('the CLI exits 7 with the code on stderr, and changes nothing', async () => {
    const env = { SOTTO_BACKUP_PASSPHRASE: BACKUP_PASSPHRASE, SOTTO_PASSPHRASE: profilePassphrase };
    const result = await runCli(
      profileDir,
      ['backup', 'import', variant(flipped(original.length - 100))],
      { env },
    );
    expect(result.code).toBe(7);
    expect(result.stderr).toContain('BACKUP_TAMPERED');
    expect(snapshotDir(profileDir)).toEqual(before);
  });
});
