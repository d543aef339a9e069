import { existsSync, mkdtempSync, readdirSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { exportBackup, importBackup, Profile } from '../../../electron/core/index.ts';
import {
  addHistory,
  BACKUP_PASSPHRASE,
  backupCli,
  TEST_SCRYPT_LOG_N,
} from '../../support/backup.ts';
import { CLI_PASSPHRASE, runCli } from '../../support/cli.ts';
import { TEST_KDF } from '../../support/profiles.ts';

// What `sotto backup import` says: counts in words a person reads ("1 new
// message", not "1 new messages"), and a wrong backup passphrase named as
// the backup's, with the unlock exit code; a new profile gets the CLI's KDF
// floor and the profile's file modes.

let root: string;
const backups: string[] = [];

beforeAll(async () => {
  root = mkdtempSync(join(tmpdir(), 'sotto-backup-cli-'));
  const profile = await Profile.create(join(root, 'source'), {
    displayName: 'Source',
    passphrase: CLI_PASSPHRASE,
    kdfCost: TEST_KDF,
  });
  const save = async () => {
    const file = join(root, `backup-${backups.length}.age`);
    await exportBackup(profile, file, {
      passphrase: BACKUP_PASSPHRASE,
      scryptLogN: TEST_SCRYPT_LOG_N,
    });
    backups.push(file);
  };
  await save(); // no messages
  const [peer] = addHistory(profile, 1, { contacts: 1, startAt: Date.now() - 600_000 });
  await save(); // 1 message
  addHistory(profile, 2, { contacts: 0, extraPeers: [peer!], startAt: Date.now() - 300_000 });
  await save(); // 3 messages
  await profile.close();
});
afterAll(() => rmSync(root, { recursive: true, force: true }));

describe('sotto backup import', () => {
  it('says "1 new message" and "2 new messages" when merging', async () => {
    const target = join(root, 'target');
    await importBackup(target, backups[0]!, {
      passphrase: BACKUP_PASSPHRASE,
      create: { passphrase: CLI_PASSPHRASE, kdfCost: TEST_KDF },
    });
    expect(await backupCli(target, ['backup', 'import', backups[1]!])).toBe(
      'Merged: 1 new message, 0 already present.\n',
    );
    expect(await backupCli(target, ['backup', 'import', backups[2]!])).toBe(
      'Merged: 2 new messages, 1 already present.\n',
    );
    expect(await backupCli(target, ['backup', 'import', backups[2]!])).toBe(
      'Merged: 0 new messages, 3 already present.\n',
    );
  });

  it('says "1 message" when restoring into a new profile, whose directory is 0700 and files 0600', async () => {
    const fresh = join(root, 'fresh');
    const out = await backupCli(fresh, [
      'backup',
      'import',
      backups[1]!,
      '--kdf-memory',
      '64',
      '--kdf-iterations',
      '3',
    ]);
    expect(out.split('\n')[0]).toMatch(
      /^Restored 1 message into a new profile \([0-9a-f-]{36}\)\.$/,
    );
    expect(statSync(fresh).mode & 0o777).toBe(0o700);
    const files = readdirSync(fresh);
    expect(files).toEqual(expect.arrayContaining(['sotto.db', 'sotto.key']));
    for (const name of files)
      expect([name, statSync(join(fresh, name)).mode & 0o777]).toEqual([name, 0o600]);
  });

  it('--kdf-memory/--kdf-iterations below the floor (64 MiB x 3) are refused before anything is written', async () => {
    const fresh = join(root, 'too-cheap');
    for (const cheap of [
      ['--kdf-memory', '8'],
      ['--kdf-iterations', '1'],
    ]) {
      const result = await runCli(fresh, ['backup', 'import', backups[1]!, ...cheap], {
        env: { SOTTO_BACKUP_PASSPHRASE: BACKUP_PASSPHRASE },
      });
      expect([result.code, result.stderr]).toEqual([
        2,
        'sotto: INVALID_INPUT: the input is malformed (the Argon2id cost must be at least 64 MiB and 3 iterations)\n',
      ]);
      expect(existsSync(fresh)).toBe(false);
    }
  });

  it('a wrong backup passphrase exits 3 with WRONG_BACKUP_PASSPHRASE, which names the backup', async () => {
    const result = await runCli(join(root, 'source'), ['backup', 'import', backups[1]!], {
      env: { SOTTO_BACKUP_PASSPHRASE: 'not the backup passphrase' },
    });
    expect(result.code).toBe(3);
    expect(result.stderr).toBe(
      'sotto: WRONG_BACKUP_PASSPHRASE: the passphrase does not unlock this backup\n',
    );
    const verify = await runCli(null, ['backup', 'verify', backups[1]!], {
      env: { SOTTO_BACKUP_PASSPHRASE: 'not the backup passphrase' },
    });
    expect([verify.code, verify.stderr]).toEqual([
      3,
      'sotto: WRONG_BACKUP_PASSPHRASE: the passphrase does not unlock this backup\n',
    ]);
  });
});
