import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Profile } from '../../../electron/core/index.ts';
import { listConversations } from '../../../electron/core/history/history.ts';
import { findGroup } from '../../../electron/core/groups/index.ts';
import { groupActivity } from '../../../electron/core/groups/group-activity.ts';
import { MUTE_FOREVER } from '../../../shared/mute.ts';
import { CLI_PASSPHRASE, cli, cliPair, runCli } from '../../support/cli.ts';
import { type RelayProcess, startRelayProcess } from '../../support/relay-process.ts';

// `sotto mute` / `sotto unmute` on real CLI profiles: a contact or a group by
// name, `--for` parsed strictly (nothing is muted by a refused command), the
// end time stored in the profile for the app to read.

let relay: RelayProcess;
let alice: string;
// Both tests use one pair of profiles: tempDir's folders go after each test.
const root = mkdtempSync(join(tmpdir(), 'sotto-mute-'));

beforeAll(async () => {
  relay = await startRelayProcess(join(root, 'relay'));
  ({ alice } = await cliPair(root, relay.url));
  await cli(alice, ['group', 'create', 'Hikers', '--member', 'Bob']);
});
afterAll(async () => {
  await relay.stop();
  rmSync(root, { recursive: true, force: true });
});

/** Bob's conversation's and the group's mute end as the app reads them (null: not muted). */
async function stored(): Promise<{ bob: number | null; hikers: number | null }> {
  const profile = await Profile.open(alice, { passphrase: CLI_PASSPHRASE });
  try {
    const bob = listConversations(profile.db)[0]?.mutedUntil ?? null;
    const hikers = groupActivity(profile.db, findGroup(profile.db, 'Hikers').ref).mutedUntil;
    return { bob, hikers };
  } finally {
    await profile.close();
  }
}

describe('sotto mute', () => {
  it('mutes a contact for a while and a group until unmuted, and unmutes both', async () => {
    const before = Date.now();
    const contact = JSON.parse(await cli(alice, ['--json', 'mute', 'Bob', '--for', '8h'])) as {
      mutedUntil: number;
    };
    expect(contact).toMatchObject({ kind: 'contact', always: false });
    expect(contact.mutedUntil).toBeGreaterThanOrEqual(before + 8 * 3_600_000);
    expect(contact.mutedUntil).toBeLessThanOrEqual(Date.now() + 8 * 3_600_000);
    expect(JSON.parse(await cli(alice, ['--json', 'mute', 'Hikers']))).toEqual({
      kind: 'group',
      mutedUntil: null,
      always: true,
    });
    expect(await stored()).toEqual({ bob: contact.mutedUntil, hikers: MUTE_FOREVER });
    expect(await cli(alice, ['unmute', 'Hikers'])).toBe('Unmuted.\n');
    expect(JSON.parse(await cli(alice, ['--json', 'unmute', 'Bob']))).toEqual({
      kind: 'contact',
      mutedUntil: null,
      always: false,
    });
    expect(await stored()).toEqual({ bob: null, hikers: null });
  });

  it('refuses an unknown name and negative, zero, huge or malformed durations, muting nothing', async () => {
    const unknown = await runCli(alice, ['mute', 'Nobody']);
    expect(unknown.code, unknown.stderr).toBe(6);
    expect(unknown.stderr).toContain('UNKNOWN_CONTACT');
    expect((await runCli(alice, ['unmute', 'Nobody'])).code).toBe(6);
    for (const bad of [
      '-1h',
      '0m',
      '30s',
      '53w',
      '999999d',
      '1e9h',
      '8',
      'h',
      '8 h',
      '',
      'forever',
      '1.5h',
    ]) {
      const refused = await runCli(alice, ['mute', 'Bob', '--for', bad]);
      expect(refused.code, bad).toBe(2);
      expect(refused.stderr, bad).toContain('INVALID_INPUT');
    }
    expect(await stored()).toEqual({ bob: null, hikers: null });
  });

  it('the listings show a mute while it lasts: timed, always, and nothing once it ended', async () => {
    type Listed = { displayName?: string; title?: string; muted: unknown };
    const listed = async (command: 'contacts' | 'groups') =>
      (JSON.parse(await cli(alice, ['--json', command])) as Listed[])[0]?.muted;
    const until = (
      JSON.parse(await cli(alice, ['--json', 'mute', 'Bob', '--for', '2d'])) as {
        mutedUntil: number;
      }
    ).mutedUntil;
    await cli(alice, ['mute', 'Hikers']);
    expect([await listed('contacts'), await listed('groups')]).toEqual([
      { until, always: false },
      { until: null, always: true },
    ]);
    expect(await cli(alice, ['contacts'])).toContain(
      ` muted until ${new Date(until).toLocaleString()}\n`,
    );
    expect(await cli(alice, ['groups'])).toMatch(/^Hikers .* muted until you unmute$/m);
    // A mute whose end passed (the machine slept through it) reads as none: nothing wakes up to lift it.
    const profile = await Profile.open(alice, { passphrase: CLI_PASSPHRASE });
    profile.commit(undefined, (db) => {
      db.prepare('UPDATE conversations SET muted_until = ?').run([Date.now() - 1_000]);
      db.prepare('UPDATE groups SET muted_until = ?').run([1]);
    });
    await profile.close();
    expect([await listed('contacts'), await listed('groups')]).toEqual([null, null]);
    expect(await cli(alice, ['contacts'])).not.toContain('muted');
    expect(await cli(alice, ['groups'])).not.toContain('muted');
  });
});
