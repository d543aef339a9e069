import { spawn } from 'node:child_process';
import { existsSync, readFileSync, truncateSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import {
  Profile,
  profilePaths,
  queueText,
  addContact,
  SCHEMA_VERSION,
} from '../../../electron/core/index.ts';
import { openKeyed } from '../../../electron/core/db/sqlite.ts';
import { unwrapDatabaseKey } from '../../../electron/core/keys/database-key.ts';
import { readKeyFile } from '../../../electron/core/keys/keyfile.ts';
import { rejectedCode } from '../../support/errors.ts';
import { cardOf, newProfile, snapshotDir } from '../../support/profiles.ts';

/**
 * Runs `open` and returns the SottoError code it failed with. Damage that the
 * open itself cannot see is reported by the background integrity check (R7),
 * so an open that succeeds is followed by `verifyIntegrity()`.
 */
async function failureCode(open: () => Promise<Profile>): Promise<string> {
  let profile: Profile | undefined;
  try {
    const code = await rejectedCode(async () => {
      profile = await open();
      await profile.verifyIntegrity();
    });
    return code ?? 'opened';
  } finally {
    await profile?.close();
  }
}

/** A closed profile with some history, ready to be damaged. */
async function closedProfile() {
  const alice = await newProfile('Alice');
  const bob = await newProfile('Bob');
  addContact(alice.profile, cardOf(bob.profile));
  queueText(alice.profile, bob.profile.account.accountId, 'a message that must survive');
  await alice.profile.close();
  await bob.profile.close();
  return alice;
}

describe('opening a profile fails safe', () => {
  it('reopens with the right passphrase and keeps the history', async () => {
    const { dir, passphrase } = await closedProfile();
    const profile = await Profile.open(dir, { passphrase });
    expect(profile.db.prepare('SELECT body FROM messages', { pluck: true }).all()).toEqual([
      'a message that must survive',
    ]);
    await profile.close();
  });

  it('WRONG_PASSPHRASE, and every file stays byte-identical', async () => {
    const { dir } = await closedProfile();
    const before = snapshotDir(dir);
    expect(await failureCode(() => Profile.open(dir, { passphrase: 'not it' }))).toBe(
      'WRONG_PASSPHRASE',
    );
    expect(snapshotDir(dir)).toEqual(before);
  });

  it('KEYFILE_CORRUPT for a flipped byte or a truncated key file, files unchanged', async () => {
    const { dir, passphrase } = await closedProfile();
    const keyFile = profilePaths(dir).keyFile;
    const original = readFileSync(keyFile);
    for (const damaged of [
      Buffer.from(original.toString('utf8').replace('"argon2id"', '"argon2iD"')),
      original.subarray(0, original.length - 20),
      Buffer.from('not a key file'),
    ]) {
      writeFileSync(keyFile, damaged);
      const before = snapshotDir(dir);
      expect(await failureCode(() => Profile.open(dir, { passphrase }))).toBe('KEYFILE_CORRUPT');
      expect(snapshotDir(dir)).toEqual(before);
    }
  });

  it('DB_CORRUPT for a truncated or emptied database, files unchanged', async () => {
    const { dir, passphrase } = await closedProfile();
    const database = profilePaths(dir).database;
    const original = readFileSync(database);
    const size = original.length;
    for (const length of [Math.floor(size / 2), size - 100, size - 4096, 4096, 100, 0]) {
      writeFileSync(database, original);
      truncateSync(database, length);
      const before = snapshotDir(dir);
      expect(await failureCode(() => Profile.open(dir, { passphrase }))).toBe('DB_CORRUPT');
      expect(snapshotDir(dir)).toEqual(before);
    }
  });

  it('PROFILE_TOO_NEW for a database from a newer schema, files unchanged', async () => {
    const { dir, passphrase } = await closedProfile();
    const paths = profilePaths(dir);
    const key = await unwrapDatabaseKey(readKeyFile(paths.keyFile), { passphrase });
    const db = openKeyed(paths.database, key);
    db.exec(`PRAGMA user_version = ${SCHEMA_VERSION + 1}`);
    db.close();
    const before = snapshotDir(dir);
    expect(await failureCode(() => Profile.open(dir, { passphrase }))).toBe('PROFILE_TOO_NEW');
    expect(snapshotDir(dir)).toEqual(before);
  });

  it('PROFILE_LOCKED while open in this process, files unchanged', async () => {
    const { dir, passphrase } = await closedProfile();
    const first = await Profile.open(dir, { passphrase });
    const before = snapshotDir(dir);
    expect(await failureCode(() => Profile.open(dir, { passphrase }))).toBe('PROFILE_LOCKED');
    expect(snapshotDir(dir)).toEqual(before);
    await first.close();
  });

  it('PROFILE_LOCKED while another process holds it, and free again once that process is killed', async () => {
    const { dir, passphrase } = await closedProfile();
    const holder = spawn(
      process.execPath,
      [
        '--import',
        'tsx',
        '-e',
        `const { Profile } = await import(${JSON.stringify(join(process.cwd(), 'electron/core/index.ts'))});
         await Profile.open(${JSON.stringify(dir)}, { passphrase: ${JSON.stringify(passphrase)} });
         process.stdout.write('open\\n');
         setInterval(() => {}, 1000);`,
      ],
      { stdio: ['ignore', 'pipe', 'inherit'] },
    );
    await new Promise<void>((resolve, reject) => {
      holder.stdout.on('data', (chunk: Buffer) => chunk.toString().includes('open') && resolve());
      holder.once('exit', (code) => reject(new Error(`holder exited early: ${code}`)));
    });
    const before = snapshotDir(dir);
    expect(await failureCode(() => Profile.open(dir, { passphrase }))).toBe('PROFILE_LOCKED');
    expect(snapshotDir(dir)).toEqual(before);

    holder.kill('SIGKILL');
    await new Promise((resolve) => holder.once('exit', resolve));
    const reopened = await Profile.open(dir, { passphrase });
    expect(reopened.account.displayName).toBe('Alice');
    await reopened.close();
  });

  it('PROFILE_NOT_FOUND for a directory without a profile, and nothing is created there', async () => {
    const { dir } = await closedProfile();
    const empty = join(dir, 'nothing-here');
    expect(await failureCode(() => Profile.open(empty, { passphrase: 'x' }))).toBe(
      'PROFILE_NOT_FOUND',
    );
    expect(existsSync(empty)).toBe(false);
  });

  it('PROFILE_EXISTS when creating over an existing profile', async () => {
    const { dir, passphrase } = await closedProfile();
    const before = snapshotDir(dir);
    expect(
      await failureCode(() => Profile.create(dir, { displayName: 'Mallory', passphrase })),
    ).toBe('PROFILE_EXISTS');
    expect(snapshotDir(dir)).toEqual(before);
  });
});
