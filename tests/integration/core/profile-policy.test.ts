import {
  chmodSync,
  existsSync,
  mkdirSync,
  readFileSync,
  statSync,
  symlinkSync,
  writeFileSync,
} from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { exportBackup } from '../../../electron/core/backup/export.ts';
import { importBackup } from '../../../electron/core/backup/import.ts';
import { Profile } from '../../../electron/core/profile/profile.ts';
import { profilePaths } from '../../../electron/core/profile/paths.ts';
import { MAX_NAME_CHARS } from '../../../shared/protocol/content.ts';
import { rejectedCode } from '../../support/errors.ts';
import { snapshotDir, TEST_KDF, tempDir } from '../../support/profiles.ts';

// Issue 9 §3–4 in the core: one passphrase and name rule at creation and at
// passphrase change, and a private profile directory whatever the umask.

const PASSPHRASE = 'quiet harbour lanterns orbit';
const opened: Profile[] = [];
afterEach(async () => {
  for (const profile of opened.splice(0)) await profile.close();
});

async function create(
  dir: string,
  options: { displayName?: string; passphrase?: string } = {},
): Promise<Profile> {
  const profile = await Profile.create(dir, {
    displayName: 'Ann',
    passphrase: PASSPHRASE,
    kdfCost: TEST_KDF,
    ...options,
  });
  opened.push(profile);
  return profile;
}

const modeOf = (path: string) => statSync(path).mode & 0o777;

/** Runs `work` with the process umask set to `mask` (vitest runs test files in forked processes). */
async function withUmask<T>(mask: number, work: () => Promise<T>): Promise<T> {
  const previous = process.umask(mask);
  try {
    return await work();
  } finally {
    process.umask(previous);
  }
}

describe('profile creation refuses before writing anything', () => {
  it('a weak passphrase: WEAK_PASSPHRASE, and no directory is made', async () => {
    const dir = join(tempDir(), 'profile');
    for (const weak of ['', 'password', '12345678', 'Ann Ann Ann']) {
      expect(await rejectedCode(() => create(dir, { passphrase: weak }))).toBe('WEAK_PASSPHRASE');
    }
    expect(existsSync(dir)).toBe(false);
  });

  it(`a name over ${MAX_NAME_CHARS} characters, empty, or with control characters: INVALID_NAME`, async () => {
    const dir = join(tempDir(), 'profile');
    for (const name of [
      'n'.repeat(200),
      'n'.repeat(MAX_NAME_CHARS + 1),
      '  ',
      'Ann\u202e',
      'Ann\nBob',
    ]) {
      expect(await rejectedCode(() => create(dir, { displayName: name }))).toBe('INVALID_NAME');
    }
    expect(existsSync(dir)).toBe(false);
  });

  it('keeps the name as it will be sent: trimmed, at most MAX_NAME_CHARS', async () => {
    const longest = await create(join(tempDir(), 'a'), { displayName: 'n'.repeat(MAX_NAME_CHARS) });
    expect(longest.account.displayName).toHaveLength(MAX_NAME_CHARS);
    const trimmed = await create(join(tempDir(), 'b'), { displayName: '  Ann  ' });
    expect(trimmed.account.displayName).toBe('Ann');
  });
});

describe('passphrase change', () => {
  it('refuses a weak new passphrase with WEAK_PASSPHRASE and leaves the key file as it was', async () => {
    const dir = join(tempDir(), 'profile');
    const profile = await create(dir);
    const before = readFileSync(profilePaths(dir).keyFile);
    for (const weak of ['', 'password', 'annann']) {
      expect(await rejectedCode(() => profile.changePassphrase(PASSPHRASE, weak, TEST_KDF))).toBe(
        'WEAK_PASSPHRASE',
      );
    }
    // The weak check comes first: even with a wrong current passphrase the answer is about the new one.
    expect(await rejectedCode(() => profile.changePassphrase('wrong', 'password', TEST_KDF))).toBe(
      'WEAK_PASSPHRASE',
    );
    expect(readFileSync(profilePaths(dir).keyFile)).toEqual(before);
    await profile.changePassphrase(PASSPHRASE, 'lantern orbit quietly humming', TEST_KDF);
    expect(readFileSync(profilePaths(dir).keyFile)).not.toEqual(before);
  });
});

describe('file modes', () => {
  for (const mask of [0o022, 0o000]) {
    it(`are 0700 for the directory and 0600 for every file, under umask ${mask.toString(8).padStart(3, '0')}`, async () => {
      const dir = join(tempDir(), 'profile');
      const profile = await withUmask(mask, () => create(dir));
      // Write something so the WAL and shared-memory files exist while open.
      profile.commit(undefined, (db) =>
        db.prepare("INSERT INTO settings (key, value) VALUES ('ui.theme', '\"dark\"')").run(),
      );
      const paths = profilePaths(dir);
      expect(modeOf(dir)).toBe(0o700);
      for (const file of [
        paths.database,
        `${paths.database}-wal`,
        `${paths.database}-shm`,
        paths.lock,
        paths.keyFile,
      ]) {
        expect([file.slice(dir.length), modeOf(file).toString(8)]).toEqual([
          file.slice(dir.length),
          '600',
        ]);
      }
    });
  }

  it('makes an existing, open directory 0700 at creation', async () => {
    const dir = join(tempDir(), 'profile');
    mkdirSync(dir, { mode: 0o777 });
    chmodSync(dir, 0o777);
    await withUmask(0, () => create(dir));
    expect(modeOf(dir)).toBe(0o700);
  });

  it('fixes a loose directory and files at the next open, and not on a refused one', async () => {
    const dir = join(tempDir(), 'profile');
    await (await create(dir)).close();
    opened.length = 0;
    const paths = profilePaths(dir);
    chmodSync(dir, 0o755);
    for (const file of [paths.database, paths.lock, paths.keyFile]) chmodSync(file, 0o644);

    const before = snapshotDir(dir);
    expect(await rejectedCode(() => Profile.open(dir, { passphrase: 'not it' }))).toBe(
      'WRONG_PASSPHRASE',
    );
    expect(snapshotDir(dir)).toEqual(before);
    expect(modeOf(paths.keyFile)).toBe(0o644); // a refused opener changes nothing at all

    const profile = await Profile.open(dir, { passphrase: PASSPHRASE });
    opened.push(profile);
    expect(modeOf(dir)).toBe(0o700);
    for (const file of [paths.database, paths.lock, paths.keyFile])
      expect(modeOf(file)).toBe(0o600);
  });

  it('refuses a profile path that is a file (INVALID_INPUT), and leaves it as it was', async () => {
    const root = tempDir();
    const file = join(root, 'not-a-directory');
    writeFileSync(file, 'mine');
    chmodSync(file, 0o644);
    expect(await rejectedCode(() => create(file))).toBe('INVALID_INPUT');
    expect(await rejectedCode(() => create(join(file, 'profile')))).toBe('INVALID_INPUT'); // a file as a parent
    expect([readFileSync(file, 'utf8'), modeOf(file)]).toEqual(['mine', 0o644]);
  });

  it('follows a symlink to a directory (a profile on another disk): the real directory becomes 0700', async () => {
    const root = tempDir();
    const target = join(root, 'elsewhere');
    mkdirSync(target, { mode: 0o755 });
    symlinkSync(target, join(root, 'link'));
    await create(join(root, 'link'));
    expect(modeOf(target)).toBe(0o700);
    expect(modeOf(join(target, 'sotto.key'))).toBe(0o600);
  });
});

describe('restore into a new profile', () => {
  it('refuses a weak passphrase for the new profile (WEAK_PASSPHRASE) and leaves no profile behind', async () => {
    const source = await create(join(tempDir(), 'source'));
    const file = join(tempDir(), 'ann.age');
    await exportBackup(source, file, {
      passphrase: 'a backup passphrase of lanterns',
      scryptLogN: 12,
    });
    const fresh = join(tempDir(), 'fresh');
    for (const weak of ['', 'password', 'abcabcabc']) {
      expect(
        await rejectedCode(() =>
          importBackup(fresh, file, {
            passphrase: 'a backup passphrase of lanterns',
            create: { passphrase: weak, kdfCost: TEST_KDF },
          }),
        ),
      ).toBe('WEAK_PASSPHRASE');
    }
    expect(existsSync(profilePaths(fresh).keyFile)).toBe(false);
  });
});
