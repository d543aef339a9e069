import { spawnSync } from 'node:child_process';
import { chmodSync, existsSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { Profile } from '../../../electron/core/profile/profile.ts';
import { profilePaths } from '../../../electron/core/profile/paths.ts';
import { rejectedCode } from '../../support/errors.ts';
import { runCli } from '../../support/cli.ts';
import { TEST_KDF, tempDir } from '../../support/profiles.ts';

// The CLI's `init` and `passphrase` under the core's one rule: weak
// passphrases, over-long names and cheap KDF costs are refused with exit 2 and
// a stable code, before anything is written.

const STRONG = 'quiet harbour lanterns orbit';
const NEXT = 'lantern orbit quietly humming';

async function existingProfile(): Promise<string> {
  const dir = join(tempDir(), 'profile');
  await (
    await Profile.create(dir, { displayName: 'Ann', passphrase: STRONG, kdfCost: TEST_KDF })
  ).close();
  return dir;
}

describe('sotto init', () => {
  it('refuses an empty or weak passphrase with WEAK_PASSPHRASE (exit 2) and creates nothing', async () => {
    const dir = join(tempDir(), 'profile');
    for (const weak of ['', 'password', 'Ann12345']) {
      const run = await runCli(
        dir,
        ['init', '--relay', join(tempDir(), 'relay'), '--name', 'Ann'],
        { env: { SOTTO_PASSPHRASE: weak } },
      );
      expect([run.code, run.stderr.trim()]).toEqual([
        2,
        'sotto: WEAK_PASSPHRASE: the passphrase is too easy to guess',
      ]);
      expect(run.stderr).not.toContain(weak || '\u0000');
    }
    expect(existsSync(dir)).toBe(false);
  });

  it('refuses a 200-character name with INVALID_NAME (exit 2) instead of failing every later send', async () => {
    const dir = join(tempDir(), 'profile');
    const run = await runCli(
      dir,
      ['init', '--relay', join(tempDir(), 'relay'), '--name', 'n'.repeat(200)],
      { env: { SOTTO_PASSPHRASE: STRONG } },
    );
    expect(run.code).toBe(2);
    expect(run.stderr).toMatch(/^sotto: INVALID_NAME: /);
    expect(existsSync(dir)).toBe(false);
  });

  it('refuses --kdf-memory below 64 MiB or --kdf-iterations below 3, naming the floor', async () => {
    const dir = join(tempDir(), 'profile');
    for (const flags of [
      ['--kdf-memory', '8'],
      ['--kdf-memory', '63'],
      ['--kdf-iterations', '2'],
      ['--kdf-memory', '8', '--kdf-iterations', '1'],
    ]) {
      const run = await runCli(
        dir,
        ['init', '--relay', join(tempDir(), 'relay'), '--name', 'Ann', ...flags],
        { env: { SOTTO_PASSPHRASE: STRONG } },
      );
      expect(run.code).toBe(2);
      expect(run.stderr).toContain('INVALID_INPUT');
      expect(run.stderr).toContain('at least 64 MiB and 3 iterations');
    }
    expect(existsSync(dir)).toBe(false);
  });
});

describe('sotto passphrase', () => {
  it('changes the passphrase: the old one no longer opens the profile, the new one does', async () => {
    const dir = await existingProfile();
    const run = await runCli(dir, ['passphrase', '--kdf-memory', '64'], {
      env: { SOTTO_PASSPHRASE: STRONG, SOTTO_NEW_PASSPHRASE: NEXT },
    });
    expect([run.code, run.stdout.trim()]).toEqual([0, 'Passphrase changed.']);
    expect(await rejectedCode(() => Profile.open(dir, { passphrase: STRONG }))).toBe(
      'WRONG_PASSPHRASE',
    );
    await (await Profile.open(dir, { passphrase: NEXT })).close();
  });

  it('refuses a weak new passphrase, a wrong current one, or a cheap cost, and leaves the key file as it was', async () => {
    const dir = await existingProfile();
    const keyFile = profilePaths(dir).keyFile;
    const before = readFileSync(keyFile);
    const attempts: [Record<string, string>, string[], number, string][] = [
      [{ SOTTO_PASSPHRASE: STRONG, SOTTO_NEW_PASSPHRASE: 'password' }, [], 2, 'WEAK_PASSPHRASE'],
      [{ SOTTO_PASSPHRASE: STRONG, SOTTO_NEW_PASSPHRASE: '' }, [], 2, 'WEAK_PASSPHRASE'],
      [
        { SOTTO_PASSPHRASE: 'not it at all', SOTTO_NEW_PASSPHRASE: NEXT },
        [],
        3,
        'WRONG_PASSPHRASE',
      ],
      [
        { SOTTO_PASSPHRASE: STRONG, SOTTO_NEW_PASSPHRASE: NEXT },
        ['--kdf-iterations', '1'],
        2,
        'INVALID_INPUT',
      ],
    ];
    for (const [env, flags, code, error] of attempts) {
      const run = await runCli(dir, ['passphrase', ...flags], { env });
      expect([run.code, run.stderr.split(':')[1]?.trim()]).toEqual([code, error]);
    }
    expect(readFileSync(keyFile)).toEqual(before);
  });

  it('under umask 000, leaves the directory 0700 and the new key file 0600 (fixing loose modes on open)', async () => {
    const dir = await existingProfile();
    const paths = profilePaths(dir);
    chmodSync(dir, 0o777);
    chmodSync(paths.database, 0o666);
    const run = spawnSync(
      '/bin/sh',
      [
        '-c',
        'umask 000 && exec "$0" "$@"',
        process.execPath,
        join(process.cwd(), 'bin/sotto.js'),
        '--profile',
        dir,
        'passphrase',
      ],
      {
        env: { ...process.env, SOTTO_PASSPHRASE: STRONG, SOTTO_NEW_PASSPHRASE: NEXT },
        encoding: 'utf8',
        timeout: 60_000,
      },
    );
    expect([run.status, run.stderr]).toEqual([0, '']);
    expect((statSync(dir).mode & 0o777).toString(8)).toBe('700');
    for (const file of [paths.database, paths.keyFile, paths.lock])
      expect((statSync(file).mode & 0o777).toString(8)).toBe('600');
  });
});
