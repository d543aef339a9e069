import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { Profile } from '../../../electron/core/index.ts';
import { backupCli, TEST_SCRYPT_LOG_N } from '../../support/backup.ts';
import { CLI_PASSPHRASE, cli, cliInit, cliPair, history, runCli } from '../../support/cli.ts';
import { tempDir } from '../../support/profiles.ts';
import { type RelayProcess, startRelayProcess } from '../../support/relay-process.ts';

// Relay protocol v2 needs a contact's delivery token and relay id for every
// send: a restore that lost them could reach nobody until invites were
// exchanged again. Everything here runs through the real CLI (child
// processes) against a real relay process.

const relays: RelayProcess[] = [];
afterEach(async () => {
  for (const relay of relays.splice(0)) await relay.stop();
});

/** The routing state a restore must bring back, read from the closed profile in `dir`. */
async function routing(dir: string) {
  const profile = await Profile.open(dir, { passphrase: CLI_PASSPHRASE });
  try {
    const setting = (key: string) =>
      profile.db.prepare('SELECT value FROM settings WHERE key = ?', { pluck: true }).get([key]);
    return {
      token: setting('delivery.token'),
      relayId: setting('relay.id'),
      registeredWith: setting('delivery.tokenRegisteredWith'),
      contacts: profile.db
        .prepare(
          'SELECT display_name, relay, relay_id, hex(delivery_token) AS token, token_sent_at, blocked FROM contacts ORDER BY account_id',
        )
        .all(),
    };
  } finally {
    await profile.close();
  }
}

describe('a restored profile keeps its v2 routing state', () => {
  it('through the CLI and a relay: it and its contact keep talking both ways with no new invite; a blocked contact stays blocked', async () => {
    const relay = await startRelayProcess(tempDir());
    relays.push(relay);
    const root = tempDir();
    const { alice, bob } = await cliPair(root, relay.url);
    const carol = join(root, 'carol');
    await cliInit(carol, 'Carol', relay.url);
    await cli(carol, ['contact', 'add', (await cli(alice, ['invite'])).trim()]);
    await cli(alice, ['contact', 'add', (await cli(carol, ['invite'])).trim()]);

    await cli(alice, ['send', 'Bob', 'before the backup']);
    await cli(bob, ['sync']);
    await cli(bob, ['send', 'Alice', 'hello Alice']);
    await cli(alice, ['sync']);
    // Blocking Carol rotates Alice's token; the sync registers it and sends it to Bob.
    await cli(alice, ['contact', 'block', 'Carol']);
    await cli(alice, ['sync']);
    await cli(bob, ['sync']);

    const file = join(root, 'alice.age');
    await backupCli(alice, [
      'backup',
      'export',
      file,
      '--scrypt-work-factor',
      String(TEST_SCRYPT_LOG_N),
    ]);
    const before = await routing(alice);
    expect(before.registeredWith).toEqual(expect.stringMatching(/^ws:\/\/127\.0\.0\.1:/));
    expect(before.relayId).toMatch(/^[A-Za-z0-9_-]{22}$/);

    const restored = join(root, 'alice-restored');
    await backupCli(restored, [
      'backup',
      'import',
      file,
      '--kdf-memory',
      '64',
      '--kdf-iterations',
      '3',
    ]);
    // Tokens, relay ids and the block came back; where the token was registered did not (it is registered again).
    expect(await routing(restored)).toEqual({ ...before, registeredWith: undefined });
    const contacts = JSON.parse(await cli(restored, ['--json', 'contacts'])) as {
      displayName: string;
      blocked: boolean;
    }[];
    expect(contacts.map((c) => [c.displayName, c.blocked]).sort()).toEqual([
      ['Bob', false],
      ['Carol', true],
    ]);

    // The old device is retired; the restored one speaks first (receipt and token, as PreKey messages).
    await cli(restored, ['sync']);
    expect((await routing(restored)).registeredWith).toBe(before.registeredWith);
    await cli(bob, ['sync']);
    await cli(restored, ['send', 'Bob', 'after the restore']);
    await cli(bob, ['sync']);
    expect((await history(bob, 'Alice')).map((m) => m.body)).toContain('after the restore');
    await cli(bob, ['send', 'Alice', 'back to the restored Alice']);
    await cli(restored, ['sync']);
    expect((await history(restored, 'Bob')).map((m) => m.body)).toEqual(
      expect.arrayContaining([
        'before the backup',
        'hello Alice',
        'after the restore',
        'back to the restored Alice',
      ]),
    );

    // Carol holds only the token from before the block: nothing she sends reaches the restored profile.
    await runCli(carol, ['send', 'Alice', 'let me back in']);
    await runCli(carol, ['sync']);
    await cli(restored, ['sync']);
    expect((await history(restored, 'Carol')).map((m) => m.body)).not.toContain('let me back in');
  }, 400_000); // about 30 CLI processes, each deriving a 64 MiB Argon2id key
});
