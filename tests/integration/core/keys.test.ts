import { readFileSync, writeFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import {
  Profile,
  profilePaths,
  queueText,
  addContact,
  type KeychainAdapter,
} from '../../../electron/core/index.ts';
import { rejectedCode } from '../../support/errors.ts';
import { cardOf, newProfile, snapshotDir, tempDir, TEST_KDF } from '../../support/profiles.ts';
import { join } from 'node:path';
import { createCipheriv, createDecipheriv, randomBytes } from 'node:crypto';

/**
 * A keychain for tests: real AES-GCM under a key held in memory, standing in for
 * the OS keychain (Electron's safeStorage cannot run here). `isSecure` is set
 * per test, as safeStorage's backend would report it.
 */
function memoryKeychain(backend: string, isSecure: boolean): KeychainAdapter & { forget(): void } {
  let secret = randomBytes(32);
  return {
    backend,
    isSecure,
    encrypt(plain) {
      const iv = randomBytes(12);
      const cipher = createCipheriv('aes-256-gcm', secret, iv);
      return Promise.resolve(
        Buffer.concat([iv, cipher.update(plain), cipher.final(), cipher.getAuthTag()]),
      );
    },
    decrypt(blob) {
      const data = Buffer.from(blob);
      const decipher = createDecipheriv('aes-256-gcm', secret, data.subarray(0, 12));
      decipher.setAuthTag(data.subarray(-16));
      return Promise.resolve(
        Buffer.concat([decipher.update(data.subarray(12, -16)), decipher.final()]),
      );
    },
    forget() {
      secret = randomBytes(32);
    },
  };
}

/** `rejectedCode`, closing a profile that `fn` opens after all. */
function codeOf(fn: () => Promise<unknown>): Promise<string | undefined> {
  return rejectedCode(async () => {
    const result = await fn();
    if (result instanceof Profile) await result.close();
  });
}

describe('keys at rest', () => {
  it('changing the passphrase re-wraps the key only: the database file is untouched', async () => {
    const { dir, profile, passphrase } = await newProfile('Alice');
    await profile.close();
    const databaseBefore = readFileSync(profilePaths(dir).database);
    const reopened = await Profile.open(dir, { passphrase });
    expect(await codeOf(() => reopened.changePassphrase('wrong', 'new passphrase', TEST_KDF))).toBe(
      'WRONG_PASSPHRASE',
    );
    await reopened.changePassphrase(passphrase, 'new passphrase', TEST_KDF);
    await reopened.close();
    expect(readFileSync(profilePaths(dir).database).equals(databaseBefore)).toBe(true);
    expect(await codeOf(() => Profile.open(dir, { passphrase }))).toBe('WRONG_PASSPHRASE');
    const withNew = await Profile.open(dir, { passphrase: 'new passphrase' });
    expect(withNew.account.displayName).toBe('Alice');
    await withNew.close();
  });

  it('the key file is replaced atomically: no temp file is left behind', async () => {
    const { dir, profile, passphrase } = await newProfile('Alice');
    await profile.changePassphrase(passphrase, 'other harbour lanterns', TEST_KDF);
    await profile.close();
    expect(Object.keys(snapshotDir(dir)).sort()).toEqual(['sotto.db', 'sotto.key', 'sotto.lock']);
  });

  it('a secure OS keychain unlocks the profile without a passphrase; the passphrase still works', async () => {
    const keychain = memoryKeychain('gnome_libsecret', true);
    const dir = join(tempDir(), 'p');
    const created = await Profile.create(dir, {
      displayName: 'Alice',
      keychain,
      passphrase: 'backup lanterns quietly',
      kdfCost: TEST_KDF,
    });
    await created.close();
    const byKeychain = await Profile.open(dir, { keychain });
    await byKeychain.close();
    const byPassphrase = await Profile.open(dir, { passphrase: 'backup lanterns quietly' });
    await byPassphrase.close();
    keychain.forget(); // e.g. the OS keyring was reset
    expect(await codeOf(() => Profile.open(dir, { keychain }))).toBe('KEYCHAIN_UNAVAILABLE');
    const fallback = await Profile.open(dir, { keychain, passphrase: 'backup lanterns quietly' });
    await fallback.close();
  });

  it('a keychain-only profile opens without any passphrase', async () => {
    const keychain = memoryKeychain('keychain_access', true);
    const dir = join(tempDir(), 'p');
    await (await Profile.create(dir, { displayName: 'Alice', keychain })).close();
    expect(await codeOf(() => Profile.open(dir, {}))).toBe('PASSPHRASE_REQUIRED');
    await (await Profile.open(dir, { keychain })).close();
  });

  it("Linux's basic_text keychain is no protection: a passphrase is required", async () => {
    const keychain = memoryKeychain('basic_text', false);
    const dir = join(tempDir(), 'p');
    expect(await codeOf(() => Profile.create(dir, { displayName: 'Alice', keychain }))).toBe(
      'PASSPHRASE_REQUIRED',
    );
    const profile = await Profile.create(dir, {
      displayName: 'Alice',
      keychain,
      passphrase: 'a fine passphrase',
      kdfCost: TEST_KDF,
    });
    await profile.close();
    // The insecure keychain was not used to wrap the key at all.
    expect(readFileSync(profilePaths(dir).keyFile, 'utf8')).not.toContain('"keychain"');
  });
});

describe('integrity (R7)', () => {
  it('a damaged page is found by the background check: DB_CORRUPT, writes refused, files unchanged', async () => {
    const alice = await newProfile('Alice');
    const bob = await newProfile('Bob');
    addContact(alice.profile, cardOf(bob.profile));
    for (let i = 0; i < 200; i++)
      queueText(alice.profile, bob.profile.account.accountId, `message ${i} `.repeat(20));
    expect((await alice.profile.verifyIntegrity()).ok).toBe(true);
    await alice.profile.close();

    const database = profilePaths(alice.dir).database;
    const bytes = readFileSync(database);
    const page = Math.floor(bytes.length / 4096 / 2);
    bytes[page * 4096 + 100]! ^= 0xff;
    writeFileSync(database, bytes);
    const before = snapshotDir(alice.dir);

    const damaged = await Profile.open(alice.dir, { passphrase: alice.passphrase });
    await expect(damaged.verifyIntegrity()).rejects.toMatchObject({ code: 'DB_CORRUPT' });
    expect(() => queueText(damaged, bob.profile.account.accountId, 'no')).toThrow(/DB_CORRUPT/);
    await damaged.close();
    expect(snapshotDir(alice.dir)).toEqual(before);
  });
});
