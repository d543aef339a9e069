import { attachmentsOf, findContact, hasCode, type Profile } from '../../core/index.ts';
import type { SyncEngine } from '../../core/sync/engine.ts';
import {
  acceptMemberChange,
  addMember,
  createGroup,
  findGroup,
  groupMessagesPage,
  leaveGroup,
  listGroups,
  makeAdmin,
  queueGroupText,
  removeMember,
  renameGroup,
  type StoredGroup,
} from '../../core/groups/index.ts';
import { type GroupSearchHit, searchGroupMessages } from '../../core/groups/group-search.ts';
import {
  failedGroupMessageIds,
  groupMessageStatus,
  retryGroupMessage,
} from '../../core/groups/group-resend.ts';
import { mutedUntil } from '../../core/history/mute.ts';
import { retryCancelledGroupUpload } from '../../core/attachments/transfer-control.ts';
import { type GlobalOptions, print, withEngine, withProfile } from '../context.ts';
import { muteSuffix, muteView } from '../mute-view.ts';
import { formatAttachment } from './attachments.ts';

// What the `group …` and `groups` commands do (definitions: commands/groups.ts),
// and the group side of `send` and `history`.

type Summary = {
  groupId: string;
  title: string;
  revision: number;
  standing: string;
  members: { accountId: string; name: string; admin: boolean; identityChanged: boolean }[];
};

function summary(group: StoredGroup): Summary {
  return {
    groupId: group.state.groupId,
    title: group.state.title,
    revision: group.state.revision,
    standing: group.standing,
    members: group.state.members.map((m) => ({
      accountId: m.accountId,
      name: m.name,
      admin: m.admin,
      identityChanged: group.changedMembers.includes(m.accountId),
    })),
  };
}

/** A member named by display name or account id: a contact, or else a member of the group. */
function memberId(profile: Profile, group: StoredGroup, name: string): string {
  const member = group.state.members.find(
    (m) => m.accountId === name || m.name.toLowerCase() === name.toLowerCase(),
  );
  return member?.accountId ?? findContact(profile.db, name).accountId;
}

/** Runs a change, sends what it queued (a down relay is not a failure), prints the group. */
function changeAndSend(
  g: GlobalOptions,
  work: (profile: Profile) => Promise<{ groupId: string }>,
): Promise<void> {
  return withEngine(g, async (profile, engine) => {
    const { groupId } = await work(profile);
    await trySend(engine);
    const group = findGroup(profile.db, groupId);
    print(g, summary(group), () => `${group.state.title}: ${formatMembers(group)}`);
  });
}

async function trySend(engine: SyncEngine): Promise<void> {
  try {
    await engine.sendOutbox();
  } catch (error) {
    if (!hasCode(error, 'RELAY_UNAVAILABLE') && !hasCode(error, 'NOT_CONFIGURED')) throw error;
  }
}

function formatMembers(group: StoredGroup): string {
  return group.state.members
    .map((m) => {
      const notes = [
        ...(m.admin ? ['admin'] : []),
        ...(group.changedMembers.includes(m.accountId) ? ['safety number changed'] : []),
      ];
      return notes.length > 0 ? `${m.name} (${notes.join(', ')})` : m.name;
    })
    .join(', ');
}

/** `group create TITLE --member C...` */
export function create(g: GlobalOptions, title: string, members: string[]): Promise<void> {
  return changeAndSend(g, (profile) =>
    createGroup(
      profile,
      title,
      members.map((m) => findContact(profile.db, m).accountId),
    ),
  );
}

/** `group add GROUP CONTACT` */
export function add(g: GlobalOptions, groupName: string, contact: string): Promise<void> {
  return changeAndSend(g, (profile) => {
    const group = findGroup(profile.db, groupName);
    return addMember(profile, group.state.groupId, findContact(profile.db, contact).accountId);
  });
}

/** `group remove GROUP MEMBER` */
export function remove(g: GlobalOptions, groupName: string, member: string): Promise<void> {
  return changeAndSend(g, (profile) => {
    const group = findGroup(profile.db, groupName);
    return removeMember(profile, group.state.groupId, memberId(profile, group, member));
  });
}

/** `group admin GROUP MEMBER` */
export function admin(g: GlobalOptions, groupName: string, member: string): Promise<void> {
  return changeAndSend(g, (profile) => {
    const group = findGroup(profile.db, groupName);
    return makeAdmin(profile, group.state.groupId, memberId(profile, group, member));
  });
}

/** `group leave GROUP` */
export function leave(g: GlobalOptions, groupName: string): Promise<void> {
  return changeAndSend(g, (profile) =>
    leaveGroup(profile, findGroup(profile.db, groupName).state.groupId),
  );
}

/** `group rename GROUP TITLE` */
export function rename(g: GlobalOptions, groupName: string, title: string): Promise<void> {
  return changeAndSend(g, (profile) =>
    renameGroup(profile, findGroup(profile.db, groupName).state.groupId, title),
  );
}

/** `group accept GROUP MEMBER` */
export function accept(g: GlobalOptions, groupName: string, member: string): Promise<void> {
  return withProfile(g, (profile) => {
    const group = findGroup(profile.db, groupName);
    acceptMemberChange(profile, group.state.groupId, memberId(profile, group, member));
    const after = findGroup(profile.db, group.state.groupId);
    print(g, summary(after), () => `${after.state.title}: ${formatMembers(after)}`);
    return Promise.resolve();
  });
}

/** `group info GROUP` */
export function info(g: GlobalOptions, groupName: string): Promise<void> {
  return withProfile(g, (profile) => {
    const group = findGroup(profile.db, groupName);
    print(g, summary(group), () =>
      [
        `${group.state.title} (${group.standing}, revision ${group.state.revision})`,
        `id: ${group.state.groupId}`,
        `members: ${formatMembers(group)}`,
      ].join('\n'),
    );
    return Promise.resolve();
  });
}

/** `groups` */
export function list(g: GlobalOptions): Promise<void> {
  return withProfile(g, (profile) => {
    const now = Date.now();
    const groups = listGroups(profile.db).map((group) => ({
      ...summary(group),
      muted: muteView(mutedUntil(profile.db, { kind: 'group', ref: group.ref }, now)),
    }));
    print(g, groups, () =>
      groups
        .map(
          (s) => `${s.title}  (${s.members.length} members, ${s.standing})${muteSuffix(s.muted)}`,
        )
        .join('\n'),
    );
    return Promise.resolve();
  });
}

/** `send GROUP TEXT...` when the name is a group's: queues each, then sends. */
export async function sendToGroup(
  g: GlobalOptions,
  profile: Profile,
  engine: SyncEngine,
  group: StoredGroup,
  bodies: readonly string[],
): Promise<void> {
  const queued = bodies.map((body) => queueGroupText(profile, group.state.groupId, body).id);
  await trySend(engine);
  const page = groupMessagesPage(profile.db, group.ref, Math.max(queued.length, 1) + 50);
  const sent = page.filter(
    (m) => queued.includes(m.id) && (m.status === 'sent' || m.status === 'delivered'),
  ).length;
  print(g, { queued: bodies.length, sent }, () =>
    sent >= bodies.length
      ? `Sent ${bodies.length}.`
      : `Queued ${bodies.length}; sent ${sent} (the rest go out on the next sync).`,
  );
}

/** `retry GROUP`: our failed messages in the group, oldest first, and how to queue one again or read its status. */
export function groupRetryPlan(profile: Profile, group: StoredGroup) {
  return {
    ids: failedGroupMessageIds(profile.db, group.ref),
    requeue: async (id: number) => {
      if (await retryCancelledGroupUpload(profile, id)) return true;
      retryGroupMessage(profile, id);
      return false;
    },
    status: (id: number) => groupMessageStatus(profile.db, id),
  };
}

/** `history GROUP` when the name is a group's: oldest first, with senders, "delivered N/M" and files. */
export function groupHistory(
  g: GlobalOptions,
  profile: Profile,
  group: StoredGroup,
  limit: number,
): void {
  const messages = groupMessagesPage(profile.db, group.ref, limit).reverse();
  const files = attachmentsOf(profile, { groupMessageIds: messages.map((m) => m.id) });
  // As 1:1 history: --json gives each message its files (no keys, no paths); text a line per file.
  const withFiles = messages.map((m) => {
    const attachments = files.filter((a) => a.groupMessageId === m.id);
    return attachments.length > 0 ? { ...m, attachments } : m;
  });
  print(g, withFiles, () =>
    withFiles
      .map((m) => {
        const when = new Date(m.sentAt).toISOString().replace('T', ' ').slice(0, 19);
        const status = m.delivered
          ? ` [${m.status}, delivered ${m.delivered.count}/${m.delivered.of}]`
          : '';
        return [
          `${when}  ${m.outgoing ? 'me' : (m.senderName ?? m.senderAccount)}: ${m.body}${status}`,
          ...('attachments' in m ? m.attachments.map((a) => `    ${formatAttachment(a)}`) : []),
        ].join('\n');
      })
      .join('\n'),
  );
}

/** The group a `send`/`history` name means when no contact has it; undefined if none either. */
export function groupNamed(profile: Profile, name: string): StoredGroup | undefined {
  try {
    return findGroup(profile.db, name);
  } catch (error) {
    if (hasCode(error, 'UNKNOWN_GROUP')) return undefined;
    throw error;
  }
}

/** The group side of `search`: group messages matching `query`, newest first. */
export function searchGroups(profile: Profile, query: string, limit: number): GroupSearchHit[] {
  return searchGroupMessages(profile.db, query, limit);
}
