import { spawn } from 'node:child_process';
import { randomInt } from 'node:crypto';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { Profile } from '../../../electron/core/index.ts';
import { loadGroup } from '../../../electron/core/groups/group-store.ts';
import { SyncEngine } from '../../../electron/core/sync/engine.ts';
import { aliceAndBob } from '../../support/group-world.ts';

// R4 for sender keys: a sender killed (SIGKILL) between groupEncrypt and the
// commit of the outbox ciphertext, at a random message, over and over, never
// reuses a chain iteration: every message reaches the member exactly once
// and the member never sees a DuplicatedMessage.

function runChild(
  dir: string,
  passphrase: string,
  groupId: string,
  first: number,
  count: number,
  fault?: string,
) {
  return new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve, reject) => {
    const child = spawn(
      process.execPath,
      [
        '--import',
        'tsx',
        join(process.cwd(), 'tests/support/group-send-child.ts'),
        dir,
        groupId,
        String(first),
        String(count),
      ],
      {
        env: {
          ...process.env,
          SOTTO_PASSPHRASE: passphrase,
          ...(fault ? { SOTTO_TEST_FAULT: fault } : {}),
        },
        stdio: ['ignore', 'inherit', 'inherit'],
      },
    );
    child.on('error', reject);
    child.on('exit', (code, signal) => resolve({ code, signal }));
  });
}

describe('group sends survive kill -9 between encrypt and commit', () => {
  it('10 killed runs: every message delivered once, no iteration reused', async () => {
    const { alice, bob, group } = await aliceAndBob('Crash');
    await alice.engine.close();
    await alice.profile.close();

    const perRun = 3;
    let killed = 0;
    for (let run = 0; run < 10; run++) {
      const fault = `group.encrypted.${randomInt(1, perRun + 1)}`;
      const result = await runChild(
        alice.dir,
        alice.passphrase,
        group.groupId,
        run * perRun,
        perRun,
        fault,
      );
      if (result.signal === 'SIGKILL') killed++;
      else expect(result.code).toBe(0);
    }
    expect(killed).toBe(10);
    // One clean run encrypts what the crashes left queued.
    expect((await runChild(alice.dir, alice.passphrase, group.groupId, 1000, 0)).code).toBe(0);

    const reopened = await Profile.open(alice.dir, {
      passphrase: alice.passphrase,
    });
    const engine = new SyncEngine(reopened);
    try {
      await engine.sendOutbox();
      const report = await bob.engine.receive({ firstWaitMs: 0, idleMs: 0 });
      expect(report.duplicates).toBe(0);
      expect(report.rejected).toBe(0);
      expect(
        bob.profile.db
          .prepare('SELECT error_code, count(*) AS n FROM failed_envelopes GROUP BY 1')
          .all(),
      ).toEqual([]);
      expect(report.retry).toBe(0);
      const ref = loadGroup(bob.profile.db, group.groupId)!.ref;
      const got = bob.profile.db
        .prepare('SELECT body FROM group_messages WHERE group_ref = ? ORDER BY sent_at', {
          pluck: true,
        })
        .all<string>([ref]);
      expect(got).toEqual(Array.from({ length: 10 * perRun }, (_, i) => `m${i}`));
    } finally {
      await engine.close();
      await reopened.close();
    }
  }, 300_000);
});
