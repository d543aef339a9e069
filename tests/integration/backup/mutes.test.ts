import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { importBackup } from '../../../electron/core/index.ts';
import { MUTE_FOREVER } from '../../../shared/mute.ts';
import {
  BACKUP_PASSPHRASE,
  backupCli,
  rewriteBackup,
  TEST_SCRYPT_LOG_N,
} from '../../support/backup.ts';
import { CLI_PASSPHRASE, cli, cliPair } from '../../support/cli.ts';
import { rejectedCode } from '../../support/errors.ts';
import { TEST_KDF } from '../../support/profiles.ts';
import { type RelayProcess, startRelayProcess } from '../../support/relay-process.ts';

// Mutes in a backup (docs/backup-format.md#mutes): version 4 carries each
// conversation's and group's `mutedUntil`, a restore applies them, a file
// from before version 4 restores unmuted, and a forged value is refused as
// BACKUP_TAMPERED before anything is written. Real relay process and CLI
// profiles; the listings (`contacts`, `groups`) show what was restored.

type Muted = { until: number | null; always: boolean } | null;
let relay: RelayProcess;
const root = mkdtempSync(join(tmpdir(), 'sotto-backup-mutes-'));
let alice = '';
let file = '';
let n = 0;
const fresh = () => join(root, `restored-${n++}`);

beforeAll(async () => {
  relay = await startRelayProcess(join(root, 'relay'));
  ({ alice } = await cliPair(root, relay.url));
  await cli(alice, ['group', 'create', 'Hikers', '--member', 'Bob']);
  await cli(alice, ['group', 'create', 'Climbers', '--member', 'Bob']);
  await cli(alice, ['mute', 'Bob', '--for', '8h']);
  await cli(alice, ['mute', 'Hikers']);
  file = join(root, 'alice.sotto-backup');
  await backupCli(alice, [
    'backup',
    'export',
    file,
    '--scrypt-work-factor',
    String(TEST_SCRYPT_LOG_N),
  ]);
});
afterAll(async () => {
  await relay.stop();
  rmSync(root, { recursive: true, force: true });
});

/** Restores `path` into a new profile (the CLI's passphrase) and returns its directory. */
async function restore(path: string): Promise<string> {
  const dir = fresh();
  await importBackup(dir, path, {
    passphrase: BACKUP_PASSPHRASE,
    create: { passphrase: CLI_PASSPHRASE, kdfCost: TEST_KDF },
  });
  return dir;
}

/** What the listings say is muted: Bob's conversation, then each group by title. */
async function mutes(dir: string): Promise<Record<string, Muted>> {
  const contacts = JSON.parse(await cli(dir, ['--json', 'contacts'])) as {
    displayName: string;
    muted: Muted;
  }[];
  const groups = JSON.parse(await cli(dir, ['--json', 'groups'])) as {
    title: string;
    muted: Muted;
  }[];
  const entries: [string, Muted][] = [
    ...contacts.map((c): [string, Muted] => [c.displayName, c.muted]),
    ...groups.map((g): [string, Muted] => [g.title, g.muted]),
  ];
  return Object.fromEntries(entries);
}

/** A copy of the backup with each conversation and group record passed through `edit`. */
async function edited(
  edit: (record: Record<string, unknown>) => void,
  version?: number,
): Promise<string> {
  const to = join(root, `edited-${n++}.sotto-backup`);
  await rewriteBackup(file, to, (record) => {
    if (record['type'] === 'manifest' && version !== undefined) record['version'] = version;
    if (record['type'] === 'conversation' || record['type'] === 'group') edit(record);
    return record;
  });
  return to;
}

describe('mutes in a backup', () => {
  it('are restored as they were; the listings show them (human and --json)', async () => {
    const before = await mutes(alice);
    expect(before['Hikers']).toEqual({ until: null, always: true });
    expect(before['Climbers']).toBeNull();
    const bob = before['Bob'];
    expect(bob?.always).toBe(false);
    expect(bob?.until).toBeGreaterThan(Date.now() + 7 * 3_600_000);

    const restored = await restore(file);
    expect(await mutes(restored)).toEqual(before);
    const groups = await cli(restored, ['groups']);
    expect(groups).toMatch(/^Hikers .* muted until you unmute$/m);
    expect(groups).toMatch(/^Climbers [^\n]*\)$/m);
    expect(await cli(restored, ['contacts'])).toContain(
      ` muted until ${new Date(bob!.until!).toLocaleString()}`,
    );
  });

  it('a version 3 file (no mutedUntil) restores unmuted, and so does a mute that ended before the restore', async () => {
    const v3 = await edited((record) => delete record['mutedUntil'], 3);
    const unmuted = { Bob: null, Hikers: null, Climbers: null };
    expect(await mutes(await restore(v3))).toEqual(unmuted);
    const ended = await edited((record) => {
      if (record['mutedUntil'] !== null) record['mutedUntil'] = 1;
    });
    expect(await mutes(await restore(ended))).toEqual(unmuted);
  });

  it('a forged mutedUntil (zero, negative, fractional, past "always", not a number) or one in a version 3 file is BACKUP_TAMPERED; nothing is restored', async () => {
    const forged: unknown[] = [0, -1, 1.5, MUTE_FOREVER + 1, '8h', true, { until: 1 }];
    for (const type of ['conversation', 'group'])
      for (const value of forged) {
        const path = await edited((record) => {
          if (record['type'] === type) record['mutedUntil'] = value;
        });
        const dir = fresh();
        expect(
          await rejectedCode(() =>
            importBackup(dir, path, {
              passphrase: BACKUP_PASSPHRASE,
              create: { passphrase: CLI_PASSPHRASE, kdfCost: TEST_KDF },
            }),
          ),
          `${type} ${JSON.stringify(value)}`,
        ).toBe('BACKUP_TAMPERED');
        expect(existsSync(dir)).toBe(false);
      }
    // Version 3 never had the member: a file that claims 3 and holds one was altered.
    const dir = fresh();
    const mixed = await edited(() => undefined, 3);
    expect(
      await rejectedCode(() =>
        importBackup(dir, mixed, {
          passphrase: BACKUP_PASSPHRASE,
          create: { passphrase: CLI_PASSPHRASE, kdfCost: TEST_KDF },
        }),
      ),
    ).toBe('BACKUP_TAMPERED');
    expect(existsSync(dir)).toBe(false);
  });
});
