import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { encryptQueued, type Profile, queueText, sealReady } from '../../../electron/core/index.ts';
import { getMessage } from '../../../electron/core/history/history.ts';
import {
  outboxIdsFor,
  queueReceipt,
  RECEIPT_DELAY_MS,
  retryMessage,
} from '../../../electron/core/messaging/outbox.ts';
import { MAX_SEND_REFUSALS, refuseEntries } from '../../../electron/core/messaging/refusals.ts';
import type { StatusChange } from '../../../electron/core/messaging/status-change.ts';
import type { SyncEngine } from '../../../electron/core/sync/engine.ts';
import { befriend, enginePerson } from '../../support/engines.ts';
import { tempDir } from '../../support/profiles.ts';

// Status changes come from the core as the rows that changed (issue 11 §2):
// the send pass reports `sent`/`failed`, a receipt the rows it delivered, a
// retry the row it queued again. Nothing re-reads history to find them, so a
// change lists exactly the rows of that commit and nothing a hostile receipt
// names without owning it.

interface Person {
  readonly profile: Profile;
  readonly engine: SyncEngine;
  /** Every status change the engine reported, one array per commit. */
  readonly reported: StatusChange[][];
}

async function person(name: string, address: string): Promise<Person> {
  const { profile, engine } = await enginePerson(name, address);
  const reported: StatusChange[][] = [];
  engine.onStatusChange((changes) => reported.push([...changes]));
  return { profile, engine, reported };
}

/**
 * Sends what `from` queued for receipts or hostile contents now: seals with a
 * clock past the receipt delay (no waiting for the random 1-10 s) and hands
 * the envelopes to the recipient's relay as a send pass would.
 */
async function sendNowIgnoringDelay(from: Person): Promise<void> {
  await encryptQueued(from.profile, 1_000);
  const ready = await sealReady(
    from.profile,
    1_000,
    'all',
    [],
    Date.now() + RECEIPT_DELAY_MS.max + 1,
  );
  expect(ready.length).toBeGreaterThan(0);
  const first = ready[0]!;
  const results = await from.engine.pool
    .get(first.relay, first.relayId)
    .sendBatch(ready.map((e) => e.submission));
  expect(results.every((r) => r === undefined)).toBe(true);
}

describe('status changes as core events', () => {
  it('a send pass reports exactly the rows it sent, and a receipt exactly the rows it delivered', async () => {
    const address = join(tempDir(), 'relay');
    const alice = await person('Alice', address);
    const bob = await person('Bob', address);
    befriend(alice, bob);
    const bobId = bob.profile.account.accountId;

    const earlier = queueText(alice.profile, bobId, 'earlier');
    await alice.engine.sendOutbox();
    expect(alice.reported).toEqual([
      [{ messageId: earlier.id, conversationId: earlier.conversationId, status: 'sent' }],
    ]);

    alice.reported.length = 0;
    const one = queueText(alice.profile, bobId, 'one');
    const two = queueText(alice.profile, bobId, 'two');
    const report = await alice.engine.sendOutbox();
    // Only this pass's rows: the earlier message, already sent, is not listed again.
    expect(report.changes).toEqual([
      { messageId: one.id, conversationId: one.conversationId, status: 'sent' },
      { messageId: two.id, conversationId: two.conversationId, status: 'sent' },
    ]);
    expect(alice.reported).toEqual([report.changes]);

    expect((await bob.engine.receive({ firstWaitMs: 5_000 })).stored).toBe(3);
    await sendNowIgnoringDelay(bob); // Bob's delivery receipts
    alice.reported.length = 0;
    expect((await alice.engine.receive({ firstWaitMs: 5_000 })).receipts).toBeGreaterThan(0);
    const delivered = alice.reported.flat();
    expect(delivered.map((c) => c.status)).toEqual(['delivered', 'delivered', 'delivered']);
    expect(delivered.map((c) => c.messageId).sort((x, y) => x - y)).toEqual(
      [earlier.id, one.id, two.id].sort((x, y) => x - y),
    );
    expect(getMessage(alice.profile.db, one.id)?.status).toBe('delivered');
  });

  it("a receipt naming rows it does not own (another contact's message, an incoming one, a delivered one) changes nothing and reports nothing", async () => {
    const address = join(tempDir(), 'relay');
    const alice = await person('Alice', address);
    const bob = await person('Bob', address);
    const carol = await person('Carol', address);
    befriend(alice, bob);
    befriend(alice, carol);
    const toCarol = queueText(alice.profile, carol.profile.account.accountId, 'for carol only');
    const toBob = queueText(alice.profile, bob.profile.account.accountId, 'for bob');
    await alice.engine.sendOutbox();
    const fromBob = queueText(bob.profile, alice.profile.account.accountId, 'from bob');
    await bob.engine.sendOutbox();
    await alice.engine.receive({ firstWaitMs: 5_000 }); // Bob's message, now incoming at Alice's
    expect((await bob.engine.receive({ firstWaitMs: 5_000 })).stored).toBe(1);
    await sendNowIgnoringDelay(bob); // the honest receipt for 'for bob'
    await alice.engine.receive({ firstWaitMs: 5_000 });
    expect(getMessage(alice.profile.db, toBob.id)?.status).toBe('delivered');

    // Bob turns hostile: he names Carol's message, his own incoming one and the delivered one again.
    const uuidOf = (id: number) => getMessage(alice.profile.db, id)!.uuid;
    const incoming = alice.reported.length; // what Alice had reported before
    bob.profile.commit(undefined, (db) =>
      queueReceipt(
        db,
        alice.profile.account.accountId,
        [uuidOf(toCarol.id), fromBob.uuid, uuidOf(toBob.id)],
        Date.now(),
        Date.now(),
        0,
      ),
    );
    await sendNowIgnoringDelay(bob);
    const received = await alice.engine.receive({ firstWaitMs: 5_000 });
    expect(received.receipts).toBe(1);
    expect(alice.reported.slice(incoming)).toEqual([]);
    expect(getMessage(alice.profile.db, toCarol.id)?.status).toBe('sent');
  });

  it('repeated refusals report the row that failed, and a retry the row queued again', async () => {
    const address = join(tempDir(), 'relay');
    const alice = await person('Alice', address);
    const bob = await person('Bob', address);
    befriend(alice, bob);
    const queued = queueText(alice.profile, bob.profile.account.accountId, 'refused');
    const [outboxId] = outboxIdsFor(alice.profile, bob.profile.account.accountId);
    expect(outboxId).toBeDefined();
    const reports: StatusChange[][] = [];
    for (let i = 0; i < MAX_SEND_REFUSALS; i++)
      reports.push(refuseEntries(alice.profile, [outboxId!], 'RELAY_ERR_MAILBOX_FULL'));
    expect(reports.slice(0, -1).flat()).toEqual([]);
    expect(reports.at(-1)).toEqual([
      { messageId: queued.id, conversationId: queued.conversationId, status: 'failed' },
    ]);
    expect(retryMessage(alice.profile, queued.id)).toEqual({
      messageId: queued.id,
      conversationId: queued.conversationId,
      status: 'queued',
    });
    // Already queued: nothing changed, nothing reported.
    expect(retryMessage(alice.profile, queued.id)).toBeUndefined();
  });
});
