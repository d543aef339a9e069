import { expect, it } from 'vitest';
import { signUpdate } from '../../../electron/core/groups/group-signing.ts';
import { loadGroup, updateRefusals } from '../../../electron/core/groups/group-store.ts';
import { queueGroupContent } from '../../../electron/core/messaging/outbox.ts';
import type { Content } from '../../../shared/protocol/content.ts';
import type { GroupUpdate } from '../../../shared/protocol/group.ts';
import { aliceBobCarol, type Person, settle } from '../../support/group-world.ts';

// A title is the admin's to choose, within the display-name rules
// (docs/message-format.md#groups). An admin turned hostile who sends one
// with ESC sequences or a bidirectional override straight to the wire (not
// through group-ops, which would refuse it) changes nothing on the members
// and is counted INVALID.

const HOSTILE_TITLES = ['Plans\u001b]0;pwned\u0007', 'Plans\u202egnp.exe', ' Plans'];

/** Alice's next update with `action`, signed by her, queued raw to Bob and Carol. */
function sendAs(
  alice: Person,
  to: readonly Person[],
  groupId: string,
  action: GroupUpdate['action'],
) {
  const state = loadGroup(alice.profile.db, groupId)!.state;
  const update: GroupUpdate = {
    groupId,
    revision: state.revision + 1,
    parent: state.head,
    author: alice.profile.account.accountId,
    action,
    signedAt: Date.now(),
  };
  const signed = signUpdate(update, alice.profile.account.identity.privateKey);
  alice.profile.commit(undefined, (db) => {
    const content: Content = { v: 1, type: 'group-update', signed, sentAt: Date.now() };
    for (const p of to) queueGroupContent(db, p.profile.account.accountId, content, Date.now());
  });
}

it("a rename to a title against the display-name rule changes no member's title and is counted INVALID", async () => {
  const { alice, bob, carol, all, group } = await aliceBobCarol('Plans');
  for (const title of HOSTILE_TITLES) {
    sendAs(alice, [bob, carol], group.groupId, { kind: 'rename', title });
    await settle(all);
  }
  for (const p of [bob, carol]) {
    expect(loadGroup(p.profile.db, group.groupId)?.state.title).toBe('Plans');
    expect(updateRefusals(p.profile.db)).toMatchObject({ INVALID: HOSTILE_TITLES.length });
  }
  // Control: a title within the rule, sent the same way (Alice never applied the others), is applied.
  sendAs(alice, [bob, carol], group.groupId, { kind: 'rename', title: 'Plans for May' });
  await settle(all);
  for (const p of [bob, carol])
    expect(loadGroup(p.profile.db, group.groupId)?.state.title).toBe('Plans for May');
}, 120_000);
