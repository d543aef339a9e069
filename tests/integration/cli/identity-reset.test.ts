import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { addContact, Profile } from '../../../electron/core/index.ts';
import { deriveAccountId } from '../../../electron/core/crypto/account-id.ts';
import { CLI_PASSPHRASE, runCli } from '../../support/cli.ts';
import { cardOf, newProfile, snapshotDir, tempDir, TEST_KDF } from '../../support/profiles.ts';

/** A CLI-readable profile with one contact and a home relay that was reached once (relay id and token known). */
async function profileWithContact() {
  const dir = join(tempDir(), 'me');
  const relay = join(tempDir(), 'relay');
  mkdirSync(relay);
  const me = await Profile.create(dir, {
    displayName: 'Me',
    passphrase: CLI_PASSPHRASE,
    kdfCost: TEST_KDF,
  });
  const { profile: bob } = await newProfile('Bob');
  addContact(me, cardOf(bob));
  const set = me.db.prepare(
    'INSERT INTO settings (key, value) VALUES (?, ?) ON CONFLICT (key) DO UPDATE SET value = excluded.value',
  );
  set.run(['relay', relay]);
  set.run(['relay.id', 'AbCdEfGhIjKlMnOpQrStUv']);
  set.run(['delivery.token', '00112233445566778899aabbccddeeff']);
  const before = me.account.accountId;
  await me.close();
  return { dir, before, bob };
}

describe('sotto identity reset', () => {
  it('refuses without --yes, says why, and changes nothing', async () => {
    const { dir } = await profileWithContact();
    const files = snapshotDir(dir);
    const result = await runCli(dir, ['identity', 'reset']);
    expect(result.code).toBe(2);
    expect(result.stderr).toContain('account id');
    expect(snapshotDir(dir)).toEqual(files);
  });

  it('with --yes: a new account id derived from a new key, the move notice queued for the contact', async () => {
    const { dir, before, bob } = await profileWithContact();
    const result = await runCli(dir, ['--json', 'identity', 'reset', '--yes']);
    expect(result.code).toBe(0);
    const out = JSON.parse(result.stdout) as {
      previousAccountId: string;
      accountId: string;
      notified: number;
    };
    expect(out).toMatchObject({ previousAccountId: before, notified: 1 });
    const me = await Profile.open(dir, { passphrase: CLI_PASSPHRASE });
    try {
      expect(me.account.accountId).toBe(out.accountId);
      expect(deriveAccountId(me.account.identity.publicKey)).toBe(out.accountId);
      expect(me.db.prepare('SELECT recipient FROM outbox', { pluck: true }).all()).toEqual([
        bob.account.accountId,
      ]);
      expect(
        me.db
          .prepare('SELECT count(*) FROM own_moves WHERE announced_at IS NULL', { pluck: true })
          .get(),
      ).toBe(1);
    } finally {
      await me.close();
    }
  });

  it('before the home relay was ever reached there is no address to move to: NOT_CONFIGURED, nothing written', async () => {
    const { dir } = await profileWithContact();
    const me = await Profile.open(dir, { passphrase: CLI_PASSPHRASE });
    me.db.prepare("DELETE FROM settings WHERE key = 'relay.id'").run();
    await me.close();
    const files = snapshotDir(dir);
    const result = await runCli(dir, ['identity', 'reset', '--yes']);
    expect(result.stderr).toContain('NOT_CONFIGURED');
    expect(result.code).not.toBe(0);
    expect(snapshotDir(dir)).toEqual(files);
  });
});
