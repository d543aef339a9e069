import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { formatInvite } from '../../../shared/protocol/invite.ts';
import { toBase64 } from '../../../shared/protocol/encoding.ts';
import { ownDeliveryToken, Profile } from '../../../electron/core/index.ts';
import { setSetting } from '../../../electron/core/profile/settings.ts';
import { CLI_PASSPHRASE, cli, runCli } from '../../support/cli.ts';
import { newProfile, TEST_KDF, TEST_RELAY_ID, tempDir } from '../../support/profiles.ts';

// The CLI's contact and send commands on a real profile, offline: the
// profile's relay is an empty folder, so nothing here needs a relay.

async function cliProfileWithBob(): Promise<{ dir: string; bobId: string }> {
  const dir = join(tempDir(), 'me');
  const me = await Profile.create(dir, {
    displayName: 'Me',
    passphrase: CLI_PASSPHRASE,
    kdfCost: TEST_KDF,
  });
  me.commit(undefined, (db) => setSetting(db, 'relay', tempDir()));
  await me.close();
  const { profile: bob } = await newProfile('Bob');
  const invite = formatInvite({
    relay: 'wss://relay.example.org',
    relayId: TEST_RELAY_ID,
    accountId: bob.account.accountId,
    identityKey: toBase64(bob.account.identity.publicKey.serialize()),
    token: toBase64(ownDeliveryToken(bob)),
    name: 'Bob',
  });
  await cli(dir, ['contact', 'add', invite]);
  return { dir, bobId: bob.account.accountId };
}

describe('sotto send and sotto contact', () => {
  it('a 70,000-character message exits 2 with MESSAGE_TOO_LONG (not a ZodError) and queues nothing', async () => {
    const { dir } = await cliProfileWithBob();
    const result = await runCli(dir, ['send', 'Bob', 'x'.repeat(70_000)]);
    expect(result.code).toBe(2);
    expect(result.stderr).toContain('MESSAGE_TOO_LONG');
    expect(result.stderr).not.toContain('ZodError');
    expect(JSON.parse(await cli(dir, ['--json', 'history', 'Bob']))).toEqual([]);
  });

  it('block refuses sending (exit 6, CONTACT_BLOCKED) until unblock', async () => {
    const { dir } = await cliProfileWithBob();
    expect(JSON.parse(await cli(dir, ['--json', 'contact', 'block', 'Bob']))).toMatchObject({
      blocked: true,
    });
    expect(await cli(dir, ['contacts'])).toContain('blocked');
    const refused = await runCli(dir, ['send', 'Bob', 'hello']);
    expect(refused.code).toBe(6);
    expect(refused.stderr).toContain('CONTACT_BLOCKED');
    expect(JSON.parse(await cli(dir, ['--json', 'contact', 'unblock', 'Bob']))).toMatchObject({
      blocked: false,
    });
  });

  it('an outdated invite exits 6 with INVITE_OUTDATED', async () => {
    const { dir } = await cliProfileWithBob();
    const result = await runCli(dir, ['contact', 'add', 'sotto://invite/1#e30']);
    expect(result.code).toBe(6);
    expect(result.stderr).toContain('INVITE_OUTDATED');
  });
});
