import type { GroupMessage, GroupSummary } from '../../../shared/ipc/groups.ts';
import type { MethodName, MethodOutput } from '../../../shared/ipc/contract.ts';
import { SottoError } from '../errors.ts';
import {
  acceptMemberChange,
  addMember,
  createGroup,
  groupMessagesAfter,
  groupMessagesPage,
  leaveGroup,
  loadGroup,
  listGroups,
  markGroupRead,
  makeAdmin,
  memberDeliveries,
  queueGroupText,
  removeMember,
  renameGroup,
  type GroupHistoryMessage,
} from '../groups/index.ts';
import { searchGroupMessages } from '../groups/group-search.ts';
import { clearMute, setMute } from '../history/mute.ts';
import { retryGroupMessage } from '../groups/group-resend.ts';
import { retryCancelledGroupUpload } from '../attachments/transfer-control.ts';
import { groupMessageById } from '../groups/group-history.ts';
import type { MuteDuration } from '../../../shared/mute.ts';
import { memberSafetyNumber, verifyMember } from '../groups/member-trust.ts';
import type { Profile } from '../profile/profile.ts';
import type { ParsedInput } from './types.ts';
import { toGroupSummary } from './group-summary.ts';

// The group methods of the IPC contract over electron/core/groups (what the
// app's group screens call). Every change is followed by a send (the
// service's own kick), like messages:send.

type GroupMethod = Extract<MethodName, `groups:${string}`>;
type GroupHandlers = {
  [M in GroupMethod]: (input: ParsedInput<M>) => Promise<MethodOutput<M>> | MethodOutput<M>;
};

/** What the handlers need from the service: the open profile, a contact's account by conversation, a send kick, a badge refresh. */
export interface GroupServiceHost {
  open(): Profile;
  accountOf(conversationId: number): string;
  sendNow(): void;
  /** A read marker moved: the badge's total changed. */
  unreadChanged(): void;
}

/** The `groups:*` handlers. */
export function groupHandlers(host: GroupServiceHost): GroupHandlers {
  const stored = (groupId: string) => {
    const profile = host.open();
    const group = loadGroup(profile.db, groupId);
    if (!group) throw new SottoError('UNKNOWN_GROUP');
    return { profile, group };
  };
  const summary = (groupId: string): GroupSummary => {
    const { profile, group } = stored(groupId);
    return toGroupSummary(profile, group);
  };
  // A mute changes the list row and the badge, nothing a member sees.
  const muted = (groupId: string, duration: MuteDuration | undefined): GroupSummary => {
    const { profile, group } = stored(groupId);
    const target = { kind: 'group', ref: group.ref } as const;
    profile.commit(undefined, (db) =>
      duration === undefined ? clearMute(db, target) : setMute(db, target, duration, Date.now()),
    );
    host.unreadChanged();
    return summary(groupId);
  };
  const changed = async (work: Promise<{ groupId: string }>) => {
    const { groupId } = await work;
    host.sendNow();
    return summary(groupId);
  };
  return {
    'groups:list': () => {
      const profile = host.open();
      return listGroups(profile.db).map((g) => toGroupSummary(profile, g));
    },
    'groups:get': (input) => summary(input.groupId),
    'groups:create': (input) =>
      changed(
        createGroup(
          host.open(),
          input.title,
          input.members.map((c) => host.accountOf(c)),
        ),
      ),
    'groups:add': (input) =>
      changed(addMember(host.open(), input.groupId, host.accountOf(input.conversationId))),
    'groups:remove': (input) => changed(removeMember(host.open(), input.groupId, input.accountId)),
    'groups:make-admin': (input) => changed(makeAdmin(host.open(), input.groupId, input.accountId)),
    'groups:leave': (input) => changed(leaveGroup(host.open(), input.groupId)),
    'groups:rename': (input) => changed(renameGroup(host.open(), input.groupId, input.title)),
    'groups:messages': (input) => {
      const { profile, group } = stored(input.groupId);
      const page = input.after
        ? groupMessagesAfter(profile.db, group.ref, input.limit, input.after)
        : groupMessagesPage(profile.db, group.ref, input.limit, input.before);
      return page.map((m) => toMessage(m, input.groupId));
    },
    'groups:retry': async (input) => {
      const profile = host.open();
      // A cancelled upload has no fan-out yet: its files upload again first (transfer-control.ts).
      if (!(await retryCancelledGroupUpload(profile, input.messageId)))
        retryGroupMessage(profile, input.messageId);
      host.sendNow();
      const message = groupMessageById(profile.db, input.messageId);
      // Deleted since (a delete that raced the retry): as for any id that is not there.
      if (!message) throw new SottoError('INVALID_INPUT', 'no such message');
      return toMessage(message, message.groupId);
    },
    'groups:mute': (input) => muted(input.groupId, input.durationMs),
    'groups:unmute': (input) => muted(input.groupId, undefined),
    'groups:mark-read': (input) => {
      const { profile, group } = stored(input.groupId);
      profile.commit(undefined, (db) => markGroupRead(db, group.ref));
      // The badge (sync:status's unread) counts groups too.
      host.unreadChanged();
      return {};
    },
    'groups:send': (input) => {
      const profile = host.open();
      const queued = queueGroupText(profile, input.groupId, input.body);
      host.sendNow();
      const message = groupMessagesPage(profile.db, queued.groupRef, 50).find(
        (m) => m.id === queued.id,
      );
      if (!message) throw new SottoError('INTERNAL', 'queued message not found');
      return toMessage(message, input.groupId);
    },
    'groups:deliveries': (input) => memberDeliveries(host.open().db, input.messageId),
    'groups:search': (input) => searchGroupMessages(host.open().db, input.query, input.limit),
    'groups:member-safety-number': (input) => {
      const number = memberSafetyNumber(host.open(), input.groupId, input.accountId);
      return { ...number, scannable: Buffer.from(number.scannable).toString('base64') };
    },
    'groups:verify-member': (input) => {
      verifyMember(host.open(), input.groupId, input.accountId);
      return {};
    },
    'groups:accept-member': (input) => {
      acceptMemberChange(host.open(), input.groupId, input.accountId);
      return summary(input.groupId);
    },
  };
}

function toMessage(m: GroupHistoryMessage, groupId: string): GroupMessage {
  return { ...m, groupId };
}
