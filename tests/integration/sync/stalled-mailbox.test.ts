import { randomUUID } from 'node:crypto';
import { spawn } from 'node:child_process';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import {
  listConversations,
  messagesPage,
  ownDeliveryToken,
  Profile,
  queueText,
} from '../../../electron/core/index.ts';
import {
  rejectedEnvelopeCount,
  unprocessedEnvelopeCount,
} from '../../../electron/core/messaging/receive.ts';
import { SyncEngine } from '../../../electron/core/sync/engine.ts';
import type { SealedSubmission } from '../../../electron/core/sync/relay.ts';
import { RELAY_LIMITS } from '../../../shared/relay/protocol.ts';
import { befriend, enginePerson, relayProcessForTest } from '../../support/engines.ts';
import type { RelayProcess } from '../../support/relay-process.ts';
import { undecryptableSeal } from '../../support/sealing.ts';

// Issue 11: envelopes whose inner layer fails used to stay unacked, so
// RELAY_LIMITS.pushWindow of them held back every later envelope on the
// connection. Against a real relay process: they are kept in the profile and
// acked, and the real message arrives in the same receive call.

const cleanups: (() => Promise<unknown>)[] = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

async function relayProcess(): Promise<RelayProcess> {
  return (await relayProcessForTest()).relay;
}

function person(name: string, relay: RelayProcess) {
  return enginePerson(name, relay.url);
}

/** `count` envelopes Alice's real seal opens but whose inner Whisper message has no session: DECRYPT_FAILED. */
async function junkFrom(from: Profile, to: Profile, count: number): Promise<SealedSubmission[]> {
  const submissions: SealedSubmission[] = [];
  for (let i = 0; i < count; i++) {
    const body = await undecryptableSeal(from, to, i);
    submissions.push({
      clientMessageId: randomUUID(),
      recipient: to.account.accountId,
      recipientDevice: to.account.deviceId,
      token: ownDeliveryToken(to),
      body,
    });
  }
  return submissions;
}

async function submit(engine: SyncEngine, relay: RelayProcess, all: readonly SealedSubmission[]) {
  const to = engine.pool.get(relay.url, relay.relayId);
  for (let i = 0; i < all.length; i += RELAY_LIMITS.maxBatchEnvelopes) {
    const results = await to.sendBatch(all.slice(i, i + RELAY_LIMITS.maxBatchEnvelopes));
    expect(results.every((r) => r === undefined)).toBe(true);
  }
}

function bodies(profile: Profile): string[] {
  return listConversations(profile.db).flatMap((c) =>
    messagesPage(profile.db, c.id, 1000).map((m) => m.body),
  );
}

describe('no stalled mailboxes (real relay process)', () => {
  it(`${RELAY_LIMITS.pushWindow + 10} undecryptable envelopes, then a real message: it arrives on the same connection in the same receive, and the mailbox is empty`, async () => {
    const relay = await relayProcess();
    const alice = await person('Alice', relay);
    const bob = await person('Bob', relay);
    befriend(alice, bob);
    const junk = RELAY_LIMITS.pushWindow + 10;
    await submit(alice.engine, relay, await junkFrom(alice.profile, bob.profile, junk));
    queueText(alice.profile, bob.profile.account.accountId, 'behind the junk');
    expect((await alice.engine.sendOutbox()).sent).toBe(1);

    const report = await bob.engine.receive({ firstWaitMs: 5_000 });
    expect(report).toMatchObject({ stored: 1, retry: junk, rejected: 0 });
    expect(bodies(bob.profile)).toEqual(['behind the junk']);
    expect(unprocessedEnvelopeCount(bob.profile.db)).toBe(junk);

    // A new connection finds nothing left on the relay: every envelope was acked.
    const fresh = new SyncEngine(bob.profile);
    cleanups.push(() => fresh.close());
    const again = await fresh.receive({ firstWaitMs: 1_000 });
    expect(again).toMatchObject({ stored: 0, duplicates: 0 });
    // That pass was the new engine's first: it retried the kept ones from the profile (attempt 2).
    expect(again.retry).toBe(junk);
    expect(relay.output()).not.toContain(bob.profile.account.accountId);
  });

  it('the engine retries kept envelopes after a drain that stored something and after a restart, not when idle; the third failure is rejected and counted', async () => {
    const relay = await relayProcess();
    const alice = await person('Alice', relay);
    const bob = await person('Bob', relay);
    befriend(alice, bob);
    await submit(alice.engine, relay, await junkFrom(alice.profile, bob.profile, 1));
    expect(await bob.engine.receive({ firstWaitMs: 5_000 })).toMatchObject({ retry: 1 });
    const attempts = () =>
      bob.profile.db.prepare('SELECT attempts FROM failed_envelopes', { pluck: true }).all();
    expect(attempts()).toEqual([1]);
    // Nothing new: an idle pass spends no attempt.
    expect(await bob.engine.receive({ firstWaitMs: 300 })).toMatchObject({ retry: 0, rejected: 0 });
    expect(attempts()).toEqual([1]);
    // A drain that stored a message may have brought what it needed: attempt two.
    queueText(alice.profile, bob.profile.account.accountId, 'news');
    expect((await alice.engine.sendOutbox()).sent).toBe(1);
    expect(await bob.engine.receive({ firstWaitMs: 5_000 })).toMatchObject({ stored: 1, retry: 1 });
    expect(attempts()).toEqual([2]);
    // A restart retries once: attempt three, rejected, counted, gone from the table.
    const restarted = new SyncEngine(bob.profile);
    cleanups.push(() => restarted.close());
    expect(await restarted.receive({ firstWaitMs: 300 })).toMatchObject({ rejected: 1, retry: 0 });
    expect(rejectedEnvelopeCount(bob.profile.db)).toBe(1);
    expect(unprocessedEnvelopeCount(bob.profile.db)).toBe(0);
  });

  it('kill -9 between the commit and the ack: the redelivered envelopes are duplicates, nothing is stored twice', async () => {
    const relay = await relayProcess();
    const alice = await person('Alice', relay);
    const bob = await person('Bob', relay);
    befriend(alice, bob);
    queueText(alice.profile, bob.profile.account.accountId, 'before the crash');
    expect((await alice.engine.sendOutbox()).sent).toBe(1);
    await submit(alice.engine, relay, await junkFrom(alice.profile, bob.profile, 1));
    await bob.engine.close();
    await bob.profile.close();

    const died = await new Promise<{ signal: NodeJS.Signals | null; stdout: string }>(
      (resolve, reject) => {
        const child = spawn(
          process.execPath,
          [
            '--import',
            'tsx',
            join(process.cwd(), 'tests/integration/sync/support/receive-then-die.ts'),
            bob.dir,
          ],
          {
            env: { ...process.env, SOTTO_PASSPHRASE: bob.passphrase },
            stdio: ['ignore', 'pipe', 'inherit'],
          },
        );
        let stdout = '';
        child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
        child.on('error', reject);
        child.on('exit', (_code, signal) => resolve({ signal, stdout }));
      },
    );
    expect(died).toEqual({ signal: 'SIGKILL', stdout: '' });

    const reopened = await Profile.open(bob.dir, { passphrase: bob.passphrase });
    cleanups.push(() => reopened.close());
    // The commit was durable: the message is stored and the junk kept, though nothing was acked.
    expect(bodies(reopened)).toEqual(['before the crash']);
    expect(unprocessedEnvelopeCount(reopened.db)).toBe(1);
    const engine = new SyncEngine(reopened);
    cleanups.push(() => engine.close());
    expect(await engine.receive({ firstWaitMs: 5_000 })).toMatchObject({
      stored: 0,
      duplicates: 2,
    });
    expect(bodies(reopened)).toEqual(['before the crash']);
    expect(unprocessedEnvelopeCount(reopened.db)).toBe(1);
    // Those duplicates were acked: a new connection gets nothing from the relay.
    const fresh = new SyncEngine(reopened);
    cleanups.push(() => fresh.close());
    expect(await fresh.receive({ firstWaitMs: 1_000 })).toMatchObject({ stored: 0, duplicates: 0 });
  });
});
