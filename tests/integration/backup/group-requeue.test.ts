import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Profile } from '../../../electron/core/index.ts';
import { queueGroupText } from '../../../electron/core/groups/group-queue.ts';
import { findGroup } from '../../../electron/core/groups/index.ts';
import { backupCli, TEST_SCRYPT_LOG_N } from '../../support/backup.ts';
import { CLI_PASSPHRASE, cli, cliPair } from '../../support/cli.ts';
import { type RelayProcess, startRelayProcess } from '../../support/relay-process.ts';

// A group message still queued when the backup was made goes out from the
// restored profile (issue 12 §3): the restored device has no sender-key
// chain, so it makes a new one, sends each member its distribution message,
// then the message. Real relay process, real CLI profiles; the member gets
// the message exactly once, however many passes both sides run after.

let relay: RelayProcess;
const root = mkdtempSync(join(tmpdir(), 'sotto-group-requeue-'));

beforeAll(async () => {
  relay = await startRelayProcess(join(root, 'relay'));
});
afterAll(async () => {
  await relay.stop();
  rmSync(root, { recursive: true, force: true });
});

type Row = { body: string; outgoing: boolean; status: string; uuid: string };
const groupHistory = async (dir: string) =>
  JSON.parse(await cli(dir, ['--json', 'history', 'Hikers', '--limit', '100'])) as Row[];

describe('queued group messages across a restore', () => {
  it('go out from the restored profile; the member receives each exactly once', async () => {
    const { alice, bob } = await cliPair(root, relay.url);
    await cli(alice, ['group', 'create', 'Hikers', '--member', 'Bob']);
    await cli(alice, ['send', 'Hikers', 'before the backup']);
    await cli(bob, ['sync']);
    expect((await groupHistory(bob)).map((m) => m.body)).toEqual(['before the backup']);

    // Queued but never sent (the device is lost before its next sync).
    const profile = await Profile.open(alice, { passphrase: CLI_PASSPHRASE });
    const groupId = findGroup(profile.db, 'Hikers').state.groupId;
    const queued = queueGroupText(profile, groupId, 'queued when the backup was made');
    await profile.close();
    const file = join(root, 'alice.sotto-backup');
    await backupCli(alice, [
      'backup',
      'export',
      file,
      '--scrypt-work-factor',
      String(TEST_SCRYPT_LOG_N),
    ]);

    const restored = join(root, 'restored');
    const out = await backupCli(restored, [
      'backup',
      'import',
      file,
      '--kdf-memory',
      '64',
      '--kdf-iterations',
      '3',
    ]);
    expect(out).toMatch(/^Restored /);
    const mine = (await groupHistory(restored)).find((m) => m.uuid === queued.uuid);
    expect(mine).toMatchObject({ status: 'queued', outgoing: true });

    // Both sides sync until the member has it (a distribution message first, or a retry request).
    const has = async () =>
      (await groupHistory(bob)).filter((m) => m.body === 'queued when the backup was made');
    for (let pass = 0; pass < 8 && (await has()).length === 0; pass++) {
      await cli(restored, ['sync']);
      await cli(bob, ['sync']);
    }
    expect(await has()).toHaveLength(1);
    expect((await has())[0]?.uuid).toBe(queued.uuid);
    // More passes on both sides change nothing: no second copy.
    for (let pass = 0; pass < 2; pass++) {
      await cli(restored, ['sync']);
      await cli(bob, ['sync']);
    }
    expect(await has()).toHaveLength(1);
    const after = (await groupHistory(restored)).find((m) => m.uuid === queued.uuid);
    expect(['sent', 'delivered']).toContain(after?.status);
    // And the member's history holds everything once, in order.
    expect((await groupHistory(bob)).map((m) => m.body)).toEqual([
      'before the backup',
      'queued when the backup was made',
    ]);
  });
});
