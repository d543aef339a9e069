import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Profile } from '../../../electron/core/index.ts';
import { queueGroupText } from '../../../electron/core/groups/group-queue.ts';
import { findGroup } from '../../../electron/core/groups/index.ts';
import { CLI_PASSPHRASE, cli, cliPair } from '../../support/cli.ts';
import { type RelayProcess, startRelayProcess } from '../../support/relay-process.ts';

// `sotto retry GROUP`: our failed group messages go out again under their
// ids; the member gets each once. Real relay process and CLI profiles.

let relay: RelayProcess;
const root = mkdtempSync(join(tmpdir(), 'sotto-group-retry-'));

beforeAll(async () => {
  relay = await startRelayProcess(join(root, 'relay'));
});
afterAll(async () => {
  await relay.stop();
  rmSync(root, { recursive: true, force: true });
});

describe('sotto retry GROUP', () => {
  it('sends the failed group messages again, once each; with none failed it retries nothing', async () => {
    const { alice, bob } = await cliPair(root, relay.url);
    await cli(alice, ['group', 'create', 'Hikers', '--member', 'Bob']);
    await cli(bob, ['sync']);
    // A message the relay kept refusing: failed, out of the outbox.
    const profile = await Profile.open(alice, { passphrase: CLI_PASSPHRASE });
    const queued = queueGroupText(profile, findGroup(profile.db, 'Hikers').state.groupId, 'again');
    profile.commit(undefined, (db) => {
      db.prepare('DELETE FROM group_outbox WHERE message_id = ?').run([queued.id]);
      db.prepare("UPDATE group_messages SET status = 'failed' WHERE id = ?").run([queued.id]);
    });
    await profile.close();

    const retried = JSON.parse(await cli(alice, ['--json', 'retry', 'Hikers'])) as {
      retried: number;
    };
    expect(retried.retried).toBe(1);
    const copies = async () =>
      (JSON.parse(await cli(bob, ['--json', 'history', 'Hikers'])) as { uuid: string }[]).filter(
        (m) => m.uuid === queued.uuid,
      );
    for (let pass = 0; pass < 6 && (await copies()).length === 0; pass++) {
      await cli(bob, ['sync']);
      await cli(alice, ['sync']);
    }
    expect(await copies()).toHaveLength(1);
    expect(JSON.parse(await cli(alice, ['--json', 'retry', 'Hikers']))).toMatchObject({
      retried: 0,
    });
    await cli(bob, ['sync']);
    expect(await copies()).toHaveLength(1);
  });
});
