import { mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { queueGroupAttachmentMessage } from '../../../electron/core/attachments/compose-group.ts';
import { uploadAttachments } from '../../../electron/core/attachments/upload-job.ts';
import { Profile } from '../../../electron/core/index.ts';
import { SyncEngine } from '../../../electron/core/sync/engine.ts';
import { queueGroupText } from '../../../electron/core/groups/group-queue.ts';
import { findGroup } from '../../../electron/core/groups/index.ts';
import { MAX_CONTENT_BYTES } from '../../../shared/protocol/content.ts';
import { testFile } from '../../support/attachment-relays.ts';
import { CLI_PASSPHRASE, cli, cliPair, runCli } from '../../support/cli.ts';
import { type RelayProcess, startRelayProcess } from '../../support/relay-process.ts';

// `sotto retry GROUP`: our failed group messages go out again under their
// ids; the member gets each once (with files: no second upload while the
// relay holds the blob). Real relay process and CLI profiles.

/** A dozen CLI runs and sync passes through a relay process: minutes when the machine is busy. */
const BUDGET_MS = 300_000;
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
  it(
    'sends the failed group messages again, once each; with none failed it retries nothing',
    async () => {
      const { alice, bob } = await cliPair(root, relay.url);
      await cli(alice, ['group', 'create', 'Hikers', '--member', 'Bob']);
      await cli(bob, ['sync']);
      // A message the relay kept refusing: failed, out of the outbox.
      const profile = await Profile.open(alice, { passphrase: CLI_PASSPHRASE });
      const queued = queueGroupText(
        profile,
        findGroup(profile.db, 'Hikers').state.groupId,
        'again',
      );
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
    },
    BUDGET_MS,
  );

  it(
    'tries every failed message: one refused in the middle keeps none back, each is reported, the exit is non-zero',
    async () => {
      const { alice, bob } = await cliPair(join(root, 'climbers'), relay.url);
      await cli(alice, ['group', 'create', 'Climbers', '--member', 'Bob']);
      await cli(bob, ['sync']);
      const profile = await Profile.open(alice, { passphrase: CLI_PASSPHRASE });
      const groupId = findGroup(profile.db, 'Climbers').state.groupId;
      const queued = ['first again', 'too long now', 'third again'].map((body) =>
        queueGroupText(profile, groupId, body),
      );
      profile.commit(undefined, (db) => {
        for (const { id } of queued) {
          db.prepare('DELETE FROM group_outbox WHERE message_id = ?').run([id]);
          db.prepare("UPDATE group_messages SET status = 'failed' WHERE id = ?").run([id]);
        }
        // What a hostile or damaged restore could leave: a body no send may carry.
        db.prepare('UPDATE group_messages SET body = ? WHERE id = ?').run([
          'x'.repeat(MAX_CONTENT_BYTES + 1),
          queued[1]!.id,
        ]);
      });
      await profile.close();

      const result = await runCli(alice, ['--json', 'retry', 'Climbers']);
      expect(result.code, result.stderr).toBe(2); // MESSAGE_TOO_LONG is a usage-class exit
      expect(result.stderr).toContain('too long');
      expect(result.stderr).not.toContain('xxxx');
      const report = JSON.parse(result.stdout) as {
        retried: number;
        sent: number;
        messages: { id: number; outcome: string; code?: string }[];
      };
      expect(report).toEqual({
        retried: 3,
        sent: 2,
        messages: [
          { id: queued[0]!.id, outcome: 'sent' },
          { id: queued[1]!.id, outcome: 'refused', code: 'MESSAGE_TOO_LONG' },
          { id: queued[2]!.id, outcome: 'sent' },
        ],
      });
      const bodies = async () =>
        (JSON.parse(await cli(bob, ['--json', 'history', 'Climbers'])) as { body: string }[]).map(
          (m) => m.body,
        );
      for (let pass = 0; pass < 6 && !(await bodies()).includes('third again'); pass++)
        await cli(bob, ['sync']);
      expect((await bodies()).filter((b) => b.endsWith('again')).sort()).toEqual([
        'first again',
        'third again',
      ]);
      // Human output: a line per message, then the totals; the refused one stays failed for later.
      const again = await runCli(alice, ['retry', 'Climbers']);
      expect(again.code).toBe(2);
      expect(again.stdout).toBe(
        `message ${queued[1]!.id}: refused (MESSAGE_TOO_LONG)\nRetried 1; sent 0.\n`,
      );
    },
    BUDGET_MS,
  );

  it(
    'a message whose file uploaded but whose fan-out was refused: sent once, the blob not uploaded again',
    async () => {
      const { alice, bob } = await cliPair(join(root, 'files'), relay.url);
      await cli(alice, ['group', 'create', 'Surveyors', '--member', 'Bob']);
      await cli(bob, ['sync']);
      const profile = await Profile.open(alice, { passphrase: CLI_PASSPHRASE });
      const engine = new SyncEngine(profile);
      const queued = await queueGroupAttachmentMessage(
        profile,
        findGroup(profile.db, 'Surveyors').state.groupId,
        [{ path: testFile(root, 'survey.pdf', 40_000) }],
        'survey',
      );
      await uploadAttachments(profile, () => engine.pool.homeBlobs());
      // What a relay that kept refusing the fan-out leaves: the file uploaded, the message failed.
      profile.commit(undefined, (db) => {
        db.prepare('DELETE FROM group_outbox WHERE message_id = ?').run([queued.id]);
        db.prepare("UPDATE group_messages SET status = 'failed' WHERE id = ?").run([queued.id]);
      });
      await engine.close();
      await profile.close();
      const blobs = () => readdirSync(join(root, 'relay', 'blobs')).length;
      const before = blobs();
      expect(before).toBeGreaterThan(0);

      expect(JSON.parse(await cli(alice, ['--json', 'retry', 'Surveyors']))).toEqual({
        retried: 1,
        sent: 1,
        messages: [{ id: queued.id, outcome: 'sent' }],
      });
      const copies = async () =>
        (
          JSON.parse(await cli(bob, ['--json', 'history', 'Surveyors'])) as {
            uuid: string;
            attachments?: { size: number; state: string }[];
          }[]
        ).filter((m) => m.uuid === queued.uuid);
      for (let pass = 0; pass < 6 && (await copies()).length === 0; pass++)
        await cli(bob, ['sync']);
      expect((await copies()).map((m) => m.attachments?.map((a) => [a.size, a.state]))).toEqual([
        [[40_000, 'done']],
      ]);
      expect(blobs()).toBe(before);
    },
    BUDGET_MS,
  );

  it(
    'with the relay down every message is tried and reported queued; the exit says the relay is unavailable',
    async () => {
      const own = await startRelayProcess(join(root, 'down-relay'));
      const { alice } = await cliPair(join(root, 'down'), own.url);
      await cli(alice, ['group', 'create', 'Walkers', '--member', 'Bob']);
      const profile = await Profile.open(alice, { passphrase: CLI_PASSPHRASE });
      const groupId = findGroup(profile.db, 'Walkers').state.groupId;
      const queued = ['one', 'two'].map((body) => queueGroupText(profile, groupId, body));
      profile.commit(undefined, (db) => {
        for (const { id } of queued) {
          db.prepare('DELETE FROM group_outbox WHERE message_id = ?').run([id]);
          db.prepare("UPDATE group_messages SET status = 'failed' WHERE id = ?").run([id]);
        }
      });
      await profile.close();
      await own.stop();

      const result = await runCli(alice, ['--json', 'retry', 'Walkers']);
      expect(result.code, result.stderr).toBe(5);
      expect(JSON.parse(result.stdout)).toEqual({
        retried: 2,
        sent: 0,
        messages: queued.map(({ id }) => ({ id, outcome: 'queued' })),
      });
    },
    BUDGET_MS,
  );
});
