import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { createGroup } from '../../../electron/core/groups/group-ops.ts';
import { encryptGroupQueued, queueGroupText } from '../../../electron/core/groups/group-queue.ts';
import { sendGroupOutbox } from '../../../electron/core/groups/group-send.ts';
import { MAX_SEND_REFUSALS } from '../../../electron/core/messaging/refusals.ts';
import type { Relay } from '../../../electron/core/sync/relay.ts';
import { UNSENT } from '../../../electron/core/sync/relay-failure.ts';
import { sentMessageFor, splittable } from '../../../electron/core/sync/multi-split.ts';
import { RelayPool } from '../../../electron/core/sync/relay-pool.ts';
import {
  befriend,
  groupMessageCount,
  type Person,
  person,
  settle,
} from '../../support/group-world.ts';
import { tempDir } from '../../support/profiles.ts';

// A multi-recipient send the relay client had to split (more recipients or
// bytes than one frame holds) loses its connection after the first frames:
// the client reports the recipients of the frames never answered as UNSENT
// (ws-relay.ts; pinned in tests/integration/sync/ws-transport.test.ts). Here
// the loss is simulated at that boundary over a real relay, pass after pass:
// what was stored stays stored, the rest is sent later, nothing is lost,
// nothing arrives twice, and UNSENT never counts as a refusal.

/** A relay client that stores the send for the first recipient only and reports the rest UNSENT. */
function losingAfterFirstFrame(relay: Relay): Relay {
  return new Proxy(relay, {
    get(target, prop, receiver) {
      if (prop !== 'sendMulti') return Reflect.get(target, prop, receiver) as unknown;
      const sendMulti: Relay['sendMulti'] = async (submission) => {
        const [first, ...rest] = submission.recipients;
        if (!first) return new Map();
        // The first frame: the sent message cut down to its recipient, as the client's split does.
        const parsed = splittable(submission.body)!;
        const body = sentMessageFor([parsed.recipients.get(first.accountId)!], parsed.shared);
        const results = await target.sendMulti({ ...submission, body, recipients: [first] });
        for (const r of rest) results.set(r.accountId, UNSENT);
        return results;
      };
      return sendMulti;
    },
  });
}

describe('groups: a split multi-recipient send that loses its connection', () => {
  it('keeps UNSENT members queued pass after pass (never a refusal), then each member has the message exactly once', async () => {
    const relay = join(tempDir(), 'relay');
    const alice = await person('Alice', relay);
    const members: Person[] = [];
    for (const name of ['Bob', 'Carol', 'Dave', 'Erin', 'Frank', 'Grace']) {
      const p = await person(name, relay);
      befriend(alice, p);
      members.push(p);
    }
    const all = [alice, ...members];
    const group = await createGroup(
      alice.profile,
      'Split',
      members.map((m) => m.profile.account.accountId),
    );
    await settle(all);
    queueGroupText(alice.profile, group.groupId, 'warm-up'); // everyone gets Alice's chain
    await settle(all);

    queueGroupText(alice.profile, group.groupId, 'split send');
    await encryptGroupQueued(alice.profile);
    const pool = new RelayPool(alice.profile);
    const context = {
      relay: (address: string, relayId: string | null) =>
        losingAfterFirstFrame(pool.get(address, relayId)),
      backoff: new Map<string, number>(),
    };
    try {
      // More faulty passes than refusals a message survives.
      expect(members.length - 1).toBeGreaterThanOrEqual(MAX_SEND_REFUSALS);
      for (let pass = 1; pass < members.length; pass++) {
        await sendGroupOutbox(alice.profile, context);
        const left = alice.profile.db
          .prepare('SELECT count(*) FROM group_outbox_recipients', { pluck: true })
          .get();
        expect(Number(left)).toBe(members.length - pass);
        const row = alice.profile.db
          .prepare(
            "SELECT m.status, o.attempts FROM group_messages m JOIN group_outbox o ON o.message_id = m.id WHERE m.body = 'split send'",
          )
          .get<{ status: string; attempts: number }>();
        expect(row).toEqual({ status: 'queued', attempts: 0 });
      }
    } finally {
      await pool.close();
    }
    await settle(all);
    expect(
      alice.profile.db
        .prepare("SELECT status FROM group_messages WHERE body = 'split send'", { pluck: true })
        .get(),
    ).toBe('sent');
    for (const m of members) expect(groupMessageCount(m, group.groupId, 'split send')).toBe(1);
  }, 300_000);
});
