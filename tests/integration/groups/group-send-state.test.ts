import { describe, expect, it } from 'vitest';
import { publishedKeys, startSession } from '../../../electron/core/index.ts';
import { removeMember } from '../../../electron/core/groups/group-ops.ts';
import { encryptGroupQueued, queueGroupText } from '../../../electron/core/groups/group-queue.ts';
import { sendGroupOutbox } from '../../../electron/core/groups/group-send.ts';
import type { Relay } from '../../../electron/core/sync/relay.ts';
import { RelayPool } from '../../../electron/core/sync/relay-pool.ts';
import { takeBundle } from '../../../shared/protocol/keys.ts';
import {
  aliceBobCarol,
  groupMessageCount,
  type Person,
  settle,
} from '../../support/group-world.ts';

// The send step reads who is waiting, their relay share, their session and
// their token in one query per message (group-send.ts), not from a group
// loaded once: what changed between the encrypt and the send must decide who
// gets the message. Real profiles, a real folder relay; the relay client is
// only watched (which recipients each multi-recipient send named).

async function trio() {
  const world = await aliceBobCarol('State');
  queueGroupText(world.alice.profile, world.group.groupId, 'warm-up'); // everyone gets Alice's chain
  await settle(world.all);
  return { ...world, groupId: world.group.groupId };
}

/** Sends Alice's encrypted group messages once through the real relay; returns the recipients each send named. */
async function sendOnce(alice: Person): Promise<string[][]> {
  const pool = new RelayPool(alice.profile);
  const named: string[][] = [];
  const watched = (relay: Relay): Relay =>
    new Proxy(relay, {
      get(target, prop, receiver) {
        if (prop !== 'sendMulti') return Reflect.get(target, prop, receiver) as unknown;
        const sendMulti: Relay['sendMulti'] = (submission) => {
          named.push(submission.recipients.map((r) => r.accountId).sort());
          return target.sendMulti(submission);
        };
        return sendMulti;
      },
    });
  try {
    await sendGroupOutbox(alice.profile, {
      relay: (address, relayId) => watched(pool.get(address, relayId)),
      backoff: new Map(),
    });
  } finally {
    await pool.close();
  }
  return named;
}

function waiting(p: Person): string[] {
  return p.profile.db
    .prepare('SELECT account_id FROM group_outbox_recipients ORDER BY account_id', { pluck: true })
    .all<string>();
}

function status(p: Person, body: string): string | undefined {
  return p.profile.db
    .prepare('SELECT status FROM group_messages WHERE body = ? AND outgoing = 1', { pluck: true })
    .get<string>([body]);
}

describe('groups: the send step uses the state at send time', () => {
  it('a member removed after the message was encrypted is not sent it; the others are', async () => {
    const { alice, bob, carol, all, groupId } = await trio();
    queueGroupText(alice.profile, groupId, 'after the encrypt');
    await encryptGroupQueued(alice.profile);
    expect(waiting(alice)).toEqual(
      [bob.profile.account.accountId, carol.profile.account.accountId].sort(),
    );
    await removeMember(alice.profile, groupId, carol.profile.account.accountId);

    // Carol is dropped at once; Bob waits until the removal (queued pairwise to him) has left.
    expect(await sendOnce(alice)).toEqual([]);
    expect(waiting(alice)).toEqual([bob.profile.account.accountId]);
    await settle(all);
    expect(waiting(alice)).toEqual([]);
    expect(status(alice, 'after the encrypt')).toBe('sent');
    expect(groupMessageCount(bob, groupId, 'after the encrypt')).toBe(1);
    expect(groupMessageCount(carol, groupId, 'after the encrypt')).toBe(0);
  }, 300_000);

  it('a member whose session is gone waits (no seal to them), and gets the message once after a new session', async () => {
    const { alice, bob, carol, all, groupId } = await trio();
    const bobId = bob.profile.account.accountId;
    queueGroupText(alice.profile, groupId, 'no session');
    await encryptGroupQueued(alice.profile);
    // A session lost after the encrypt (a reset): the committed row and the cached record both go.
    alice.profile.commit(undefined, (db) =>
      db.prepare('DELETE FROM sessions WHERE address = ?').run([`${bobId}.1`]),
    );
    alice.profile.state.clearCache();

    expect(await sendOnce(alice)).toEqual([[carol.profile.account.accountId]]);
    expect(waiting(alice)).toEqual([bobId]);
    expect(status(alice, 'no session')).toBe('queued');

    await startSession(
      alice.profile,
      takeBundle(publishedKeys(bob.profile.db, bob.profile.account), 0),
      bobId,
    );
    expect(await sendOnce(alice)).toEqual([[bobId]]);
    expect(waiting(alice)).toEqual([]);
    expect(status(alice, 'no session')).toBe('sent');
    await settle(all);
    expect(groupMessageCount(bob, groupId, 'no session')).toBe(1);
    expect(groupMessageCount(carol, groupId, 'no session')).toBe(1);
  }, 300_000);
});
