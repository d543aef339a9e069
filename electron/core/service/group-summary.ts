import type { GroupSummary } from '../../../shared/ipc/groups.ts';
import type { StoredGroup } from '../groups/index.ts';
import { conversationsOf, groupActivity } from '../groups/group-activity.ts';
import type { Profile } from '../profile/profile.ts';

// A stored group as the app's list and group screen show it: its state, plus
// what the conversation list needs (last message, activity, incoming count)
// and, per member, the 1:1 conversation and trust the 1:1 screens already use
// (a member whose identity changed pauses sending, as a 1:1 contact does).

/** The group's `GroupSummary` for `groups:*` answers. */
export function toGroupSummary(profile: Profile, group: StoredGroup): GroupSummary {
  const self = profile.account.accountId;
  const others = group.state.members.filter((m) => m.accountId !== self).map((m) => m.accountId);
  const conversations = conversationsOf(profile.db, others);
  return {
    groupId: group.state.groupId,
    title: group.state.title,
    revision: group.state.revision,
    standing: group.standing,
    members: group.state.members.map((m) => ({
      accountId: m.accountId,
      name: m.name,
      admin: m.admin,
      self: m.accountId === self,
      conversationId: conversations.get(m.accountId) ?? null,
      // A changed identity is always a move (an account id is its key): flagged per group at
      // the move, lifted by groups:accept-member or by accepting the move on the safety number screen.
      identityChanged: group.changedMembers.includes(m.accountId),
    })),
    updatedAt: group.updatedAt,
    ...groupActivity(profile.db, group.ref),
  };
}
