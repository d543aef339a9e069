import { expect, it } from 'vitest';
import { signUpdate } from '../../../electron/core/groups/group-signing.ts';
import { loadGroup, updateRefusals } from '../../../electron/core/groups/group-store.ts';
import { queueGroupContent } from '../../../electron/core/messaging/outbox.ts';
import type { Content } from '../../../shared/protocol/content.ts';
import type { GroupUpdate } from '../../../shared/protocol/group.ts';
import { aliceBobCarol, person, type Person, settle } from '../../support/group-world.ts';
import { profileInvite } from '../../../electron/core/profile/invite.ts';
import { parseInvite } from '../../../shared/protocol/invite.ts';

// A title is the admin's to choose, within the display-name rules
// (docs/message-format.md#groups). An admin turned hostile who sends one
// with ESC sequences or a bidirectional override straight to the wire (not
// through group-ops, which would refuse it) changes nothing on the members
// and is counted INVALID. A member card's name is the admin's word too: it
// names a contact the member did not know only if it keeps the rule.

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

it("an added member's card name against the display-name rule names neither the member nor the contact", async () => {
  const { alice, bob, carol, all, group, relay } = await aliceBobCarol('Plans');
  const dave = await person('Dave', relay);
  const parsed = parseInvite(profileInvite(dave.profile));
  if (!parsed.ok) throw new Error('a profile invite parses');
  // An invite carries exactly a member card's fields but `admin`.
  const member = { ...parsed.invite, name: 'Dave\u001b[2J\u202e', admin: false };
  sendAs(alice, [bob, carol], group.groupId, { kind: 'add', member });
  await settle(all);
  for (const p of [bob, carol]) {
    const members = loadGroup(p.profile.db, group.groupId)!.state.members;
    // Listed (the add is valid), under no name of the admin's choosing.
    expect(members.find((m) => m.accountId === dave.profile.account.accountId)?.name).toBe(
      'Member',
    );
    const name = p.profile.db
      .prepare('SELECT display_name FROM contacts WHERE account_id = ?', { pluck: true })
      .get([dave.profile.account.accountId]);
    expect(name).toBeNull();
  }
}, 120_000);
