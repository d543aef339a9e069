import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { createGroup } from '../../../electron/core/groups/group-ops.ts';
import { queueGroupText } from '../../../electron/core/groups/group-queue.ts';
import { loadGroup } from '../../../electron/core/groups/group-store.ts';
import { befriend, type Person, person, settle } from '../../support/group-world.ts';
import { tempDir } from '../../support/profiles.ts';
import { type RelayProcess, startRelayProcess } from '../../support/relay-process.ts';

// Members on two real relay processes over WebSocket (each device's RelayPool
// logs in to its own relay and reaches the other anonymously): every member
// has every message exactly once, in each sender's order.

const MESSAGES = 100;
const relays: RelayProcess[] = [];
afterEach(async () => {
  for (const relay of relays.splice(0)) await relay.stop();
});

async function relayAt(): Promise<RelayProcess> {
  const relay = await startRelayProcess(join(tempDir(), 'relay'));
  relays.push(relay);
  return relay;
}

/** Per sender, the bodies `p` holds from them in the order they arrived (row order). */
function bySender(p: Person, groupId: string): Map<string, string[]> {
  const group = loadGroup(p.profile.db, groupId)!;
  const rows = p.profile.db
    .prepare('SELECT sender_account, body FROM group_messages WHERE group_ref = ? ORDER BY id')
    .all<{ sender_account: string; body: string }>([group.ref]);
  const out = new Map<string, string[]>();
  for (const r of rows) out.set(r.sender_account, [...(out.get(r.sender_account) ?? []), r.body]);
  return out;
}

describe('groups over two WebSocket relays', () => {
  it(`four members on two relays, ${MESSAGES} messages from each: everyone has every message once, in order`, async () => {
    const [one, two] = [await relayAt(), await relayAt()];
    const alice = await person('Alice', one.url);
    const bob = await person('Bob', two.url);
    const carol = await person('Carol', one.url);
    const dave = await person('Dave', two.url);
    const all = [alice, bob, carol, dave];
    for (const p of [bob, carol, dave]) befriend(alice, p);
    const group = await createGroup(
      alice.profile,
      'Two relays',
      [bob, carol, dave].map((p) => p.profile.account.accountId),
    );
    await settle(all);
    const sent = new Map<string, string[]>();
    for (let i = 0; i < MESSAGES; i++) {
      for (const p of all) {
        const body = `${p.name} #${i}`;
        queueGroupText(p.profile, group.groupId, body);
        sent.set(p.profile.account.accountId, [
          ...(sent.get(p.profile.account.accountId) ?? []),
          body,
        ]);
      }
      // Exchange as people do: a few messages, then a sync, so frames of many sizes go out.
      if (i % 25 === 24) await settle(all, 30);
    }
    await settle(all, 30);
    for (const p of all) {
      const got = bySender(p, group.groupId);
      for (const sender of all) {
        const id = sender.profile.account.accountId;
        expect(got.get(id), `${p.name} from ${sender.name}`).toEqual(sent.get(id));
      }
    }
  }, 600_000);
});
