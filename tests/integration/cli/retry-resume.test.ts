import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { attachmentsOf } from '../../../electron/core/attachments/attachment-files.ts';
import { queueAttachmentMessage } from '../../../electron/core/attachments/compose.ts';
import { queueGroupAttachmentMessage } from '../../../electron/core/attachments/compose-group.ts';
import {
  cancelTransfer,
  type ConversationScope,
} from '../../../electron/core/attachments/transfer-control.ts';
import { findGroup } from '../../../electron/core/groups/index.ts';
import { findContact, Profile } from '../../../electron/core/index.ts';
import { testFile } from '../../support/attachment-relays.ts';
import { CLI_PASSPHRASE, cli, cliPair, runCli } from '../../support/cli.ts';
import { type RelayProcess, startRelayProcess } from '../../support/relay-process.ts';

// `sotto retry CONTACT|GROUP` resumes uploads the user cancelled (1:1 and
// group) and reports them (`resumed`); a relay that refuses one of them for
// good makes its outcome `failed` while the others still go. The relay here
// takes blobs of at most 200,000 bytes. Real relay process and CLI profiles.

/** A dozen CLI runs through a relay process: minutes when the machine is busy. */
const BUDGET_MS = 300_000;
const SMALL = 20_000;
let relay: RelayProcess;
const root = mkdtempSync(join(tmpdir(), 'sotto-retry-resume-'));

beforeAll(async () => {
  relay = await startRelayProcess(join(root, 'relay'), { args: ['--max-blob-bytes', '200000'] });
});
afterAll(async () => {
  await relay.stop();
  rmSync(root, { recursive: true, force: true });
});

interface Report {
  retried: number;
  sent: number;
  messages: { id: number; outcome: string; resumed?: boolean; code?: string }[];
}

/** Alice composes and cancels (before any upload) a small and an oversized file to Bob, and a small one to the group. */
async function cancelledUploads(alice: string) {
  const profile = await Profile.open(alice, { passphrase: CLI_PASSPHRASE });
  try {
    const bob = findContact(profile.db, 'Bob');
    const group = findGroup(profile.db, 'Hikers');
    const dir = mkdtempSync(join(root, 'files-'));
    const cancel = (
      ids: { messageIds?: number[]; groupMessageIds?: number[] },
      scope: ConversationScope,
    ) => {
      for (const a of attachmentsOf(profile, ids))
        expect(cancelTransfer(profile, scope, a.id)).toBe(true);
    };
    const small = await queueAttachmentMessage(
      profile,
      bob.accountId,
      [{ path: testFile(dir, 'small.pdf', SMALL) }],
      'small one',
    );
    const big = await queueAttachmentMessage(
      profile,
      bob.accountId,
      [{ path: testFile(dir, 'big.pdf', 300_000) }],
      'big one',
    );
    const inGroup = await queueGroupAttachmentMessage(
      profile,
      group.state.groupId,
      [{ path: testFile(dir, 'map.pdf', SMALL) }],
      'group one',
    );
    cancel({ messageIds: [small.id, big.id] }, { conversationId: bob.conversationId });
    cancel({ groupMessageIds: [inGroup.id] }, { groupRef: group.ref });
    return { small: small.id, big: big.id, group: inGroup.id };
  } finally {
    await profile.close();
  }
}

describe('sotto retry resumes cancelled uploads', () => {
  it(
    'resumes 1:1 and group uploads, reports each (a refused one as failed), and Bob gets each once',
    async () => {
      const { alice, bob } = await cliPair(root, relay.url);
      await cli(alice, ['group', 'create', 'Hikers', '--member', 'Bob']);
      await cli(bob, ['sync']);
      const ids = await cancelledUploads(alice);

      // The group's retry touches only the group's message: Bob's two stay failed.
      const group = JSON.parse(await cli(alice, ['--json', 'retry', 'Hikers'])) as Report;
      expect(group).toEqual({
        retried: 1,
        sent: 1,
        messages: [{ id: ids.group, outcome: 'sent', resumed: true }],
      });

      // The relay takes the small blob and refuses the big one for good.
      const result = await runCli(alice, ['--json', 'retry', 'Bob']);
      expect(result.code, result.stderr).toBe(5);
      expect(result.stderr).not.toContain('big one');
      expect(JSON.parse(result.stdout)).toEqual({
        retried: 2,
        sent: 1,
        messages: [
          { id: ids.small, outcome: 'sent', resumed: true },
          { id: ids.big, outcome: 'failed', resumed: true },
        ],
      });
      // Refused for good: nothing left to retry (its ciphertext is gone; sending the file again is the way).
      expect(JSON.parse(await cli(alice, ['--json', 'retry', 'Bob']))).toEqual({
        retried: 0,
        sent: 0,
        messages: [],
      });

      await cli(bob, ['sync']);
      const direct = JSON.parse(await cli(bob, ['--json', 'history', 'Alice'])) as {
        body: string;
        attachments?: { size: number; state: string }[];
      }[];
      expect(direct.map((m) => [m.body, m.attachments?.map((a) => a.size)])).toEqual([
        ['small one', [SMALL]],
      ]);
      const inGroup = JSON.parse(await cli(bob, ['--json', 'history', 'Hikers'])) as {
        body: string;
        attachments?: { size: number }[];
      }[];
      expect(
        inGroup.filter((m) => m.body === 'group one').map((m) => m.attachments?.map((a) => a.size)),
      ).toEqual([[SMALL]]);
    },
    BUDGET_MS,
  );
});
