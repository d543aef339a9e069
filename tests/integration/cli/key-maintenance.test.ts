import { readdirSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { Profile } from '../../../electron/core/index.ts';
import { CLI_PASSPHRASE, cli, cliPair, history, runCli } from '../../support/cli.ts';
import { tempDir } from '../../support/profiles.ts';

// Key maintenance through the real CLI and a folder relay: `sync` refills
// one-time keys, and a rotation killed with -9 at either side of the publish
// leaves a profile whose keys still open every message a contact makes from
// what the relay handed out.

const THREE_DAYS = 3 * 24 * 60 * 60 * 1000;

async function withProfile<T>(dir: string, work: (profile: Profile) => T): Promise<T> {
  const profile = await Profile.open(dir, { passphrase: CLI_PASSPHRASE });
  try {
    return work(profile);
  } finally {
    await profile.close();
  }
}

function oneTimeFiles(relay: string, accountId: string): { ec: string[]; kyber: string[] } {
  const dir = join(relay, 'keys', `${accountId}.1`, 'one-time');
  const names = readdirSync(dir);
  return {
    ec: names.filter((n) => n.startsWith('ec-')),
    kyber: names.filter((n) => n.startsWith('kyber-')),
  };
}

describe('key maintenance in the CLI', () => {
  it('sync refills one-time keys that were handed out, back to the stock of 100', async () => {
    const relay = tempDir('sotto-folder-relay-');
    const { alice } = await cliPair(tempDir(), relay);
    const aliceId = await withProfile(alice, (p) => p.account.accountId);
    const before = oneTimeFiles(relay, aliceId);
    expect([before.ec.length, before.kyber.length]).toEqual([100, 100]);
    // A stranger took 80 of each (the folder relay hands a key out by deleting its file).
    for (const name of [...before.ec.slice(0, 80), ...before.kyber.slice(0, 80)]) {
      rmSync(join(relay, 'keys', `${aliceId}.1`, 'one-time', name));
    }
    await cli(alice, ['sync']);
    const after = oneTimeFiles(relay, aliceId);
    expect([after.ec.length, after.kyber.length]).toEqual([100, 100]);
    expect(
      await withProfile(alice, (p) =>
        p.db
          .prepare('SELECT count(*) FROM pre_keys WHERE handed_out_at IS NOT NULL', { pluck: true })
          .get(),
      ),
    ).toBe(80);
  });

  for (const fault of ['keys.after-generate', 'keys.after-publish'] as const) {
    it(`a rotation killed with -9 at ${fault} leaves keys that open the next contact's first message`, async () => {
      const relay = tempDir('sotto-folder-relay-');
      const { alice, bob } = await cliPair(tempDir(), relay);
      // Make the rotation due: the current signed and last-resort keys are three days old.
      await withProfile(alice, (p) => {
        p.db.prepare('UPDATE signed_pre_keys SET created_at = created_at - ?').run([THREE_DAYS]);
        p.db
          .prepare('UPDATE kyber_pre_keys SET created_at = created_at - ? WHERE last_resort = 1')
          .run([THREE_DAYS]);
      });
      const killed = await runCli(alice, ['sync'], { env: { SOTTO_TEST_FAULT: fault } });
      expect(killed.signal).toBe('SIGKILL');
      expect(
        await withProfile(alice, (p) =>
          p.db
            .prepare("SELECT count(*) FROM signed_pre_keys WHERE state = 'pending'", {
              pluck: true,
            })
            .get(),
        ),
      ).toBe(1);

      // Bob's first message is built from whatever signed key the relay hands out now.
      await cli(bob, ['send', 'Alice', `after the crash at ${fault}`]);
      await cli(alice, ['sync']);
      expect((await history(alice, 'Bob')).map((m) => m.body)).toEqual([
        `after the crash at ${fault}`,
      ]);
      expect(
        await withProfile(alice, (p) =>
          p.db.prepare('SELECT state FROM signed_pre_keys ORDER BY id', { pluck: true }).all(),
        ),
      ).toEqual(['previous', 'current']);
    });
  }
});
