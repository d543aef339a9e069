import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { exportBackup, importBackup, Profile } from '../../../electron/core/index.ts';
import { MAX_DURATION_MS } from '../../../shared/protocol/attachment.ts';
import { BACKUP_PASSPHRASE, rewriteBackup, TEST_SCRYPT_LOG_N } from '../../support/backup.ts';
import { rejectedCode } from '../../support/errors.ts';
import { introduce, newProfile, TEST_KDF } from '../../support/profiles.ts';
import { pointer, sendRaw } from '../../support/raw-pointer.ts';

// A received pointer's durationMs in a backup (docs/backup-format.md#attachments,
// version 6): exported and restored as stored; a file of version 5 or older
// (no such member) restores with none; a forged value, a version 6 record
// without the member and a version 5 record with it are BACKUP_TAMPERED, and
// nothing is restored.

const RESTORED_PASSPHRASE = 'restored passphrase';
// Per-test temp dirs are removed after each test: the suite's files live here until the end.
const root = mkdtempSync(join(tmpdir(), 'sotto-backup-duration-'));
let original = '';
let n = 0;
afterAll(() => rmSync(root, { recursive: true, force: true }));

beforeAll(async () => {
  const { profile: alice } = await newProfile('Alice');
  const { profile: bob } = await newProfile('Bob');
  await introduce(alice, bob);
  // Pending pointers (their blobs do not exist): the backup carries the pointer, no bytes.
  for (const patch of [{ durationMs: 95_250 }, { durationMs: MAX_DURATION_MS }, {}])
    expect((await sendRaw(alice, bob, pointer(patch))).map((o) => o.outcome)).toEqual(['stored']);
  original = join(root, 'bob.age');
  await exportBackup(bob, original, {
    passphrase: BACKUP_PASSPHRASE,
    scryptLogN: TEST_SCRYPT_LOG_N,
  });
}, 120_000);

/** A copy of the backup with the manifest's version set and each attachment record passed through `edit`. */
async function edited(
  edit: (record: Record<string, unknown>) => void,
  version?: number,
): Promise<string> {
  const to = join(root, `edited-${n++}.age`);
  await rewriteBackup(original, to, (record) => {
    if (record['type'] === 'manifest' && version !== undefined) record['version'] = version;
    if (record['type'] === 'attachment') {
      // Before version 7 attachment records name no sender.
      if ((version ?? 7) < 7) delete record['senderAccount'];
      edit(record);
    }
    // Before version 4 (mutes) conversation records have no mutedUntil.
    if (record['type'] === 'conversation' && (version ?? 6) < 4) delete record['mutedUntil'];
    return record;
  });
  return to;
}

/** Restores `file` into a new profile; the durations its attachment rows hold, in id order. */
async function restoredDurations(file: string): Promise<(number | null)[]> {
  const dir = join(root, `restored-${n++}`);
  await importBackup(dir, file, {
    passphrase: BACKUP_PASSPHRASE,
    create: { passphrase: RESTORED_PASSPHRASE, kdfCost: TEST_KDF },
  });
  const profile = await Profile.open(dir, { passphrase: RESTORED_PASSPHRASE });
  try {
    return profile.db
      .prepare('SELECT duration_ms FROM attachments ORDER BY id', { pluck: true })
      .all<number | null>();
  } finally {
    await profile.close();
  }
}

/** The code a restore of `file` fails with; the profile directory must not exist afterwards. */
async function refused(file: string): Promise<string | undefined> {
  const dir = join(root, `refused-${n++}`);
  const code = await rejectedCode(() =>
    importBackup(dir, file, {
      passphrase: BACKUP_PASSPHRASE,
      create: { passphrase: RESTORED_PASSPHRASE, kdfCost: TEST_KDF },
    }),
  );
  expect(existsSync(dir)).toBe(false);
  return code;
}

describe('attachment durations in a backup', () => {
  it('are exported (version 6 on) and restored as they were (none stays null)', async () => {
    expect(await restoredDurations(original)).toEqual([95_250, MAX_DURATION_MS, null]);
  });

  it('a version 6 file (no senderAccount) restores them as they were', async () => {
    expect(await restoredDurations(await edited(() => undefined, 6))).toEqual([
      95_250,
      MAX_DURATION_MS,
      null,
    ]);
  });

  it.each([3, 4, 5])('a version %i file (no durationMs) restores with none', async (version) => {
    const old = await edited((record) => delete record['durationMs'], version);
    expect(await restoredDurations(old)).toEqual([null, null, null]);
  });

  it.each([
    ['negative', -1],
    ['zero', 0],
    ['fractional', 1.5],
    ['over 24 h', MAX_DURATION_MS + 1],
    ['a string', '95250'],
    ['a boolean', true],
    ['an object', { ms: 1 }],
  ])('a forged durationMs (%s) is BACKUP_TAMPERED; nothing is restored', async (_, value) => {
    expect(await refused(await edited((record) => (record['durationMs'] = value)))).toBe(
      'BACKUP_TAMPERED',
    );
  });

  it('a version 7 record without the member, and a version 5 record with it, are BACKUP_TAMPERED', async () => {
    expect(await refused(await edited((record) => delete record['durationMs']))).toBe(
      'BACKUP_TAMPERED',
    );
    expect(await refused(await edited(() => undefined, 5))).toBe('BACKUP_TAMPERED');
  });
});
