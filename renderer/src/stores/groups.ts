import { defineStore } from 'pinia';
import { computed, ref } from 'vue';
import type { GroupMessage, GroupSummary } from '../../../shared/ipc/groups.ts';
import { call } from '../bridge.ts';

/** Messages of the open group loaded at once (its newest; older ones are not paged in yet). */
export const GROUP_PAGE = 200;

/** When a group was last active: its last message, else its last change (creation, rename). */
export function groupActivity(group: GroupSummary): number {
  return group.lastMessageAt ?? group.updatedAt;
}

/**
 * Group conversations: the list (next to the 1:1 conversations), the open
 * group's newest messages, and unread counts. The core keeps no read marker
 * for groups, so unread is counted here against the incoming messages shown:
 * what was there when the list first loaded counts as read.
 */
export const useGroupsStore = defineStore('groups', () => {
  const list = ref<GroupSummary[]>([]);
  const loaded = ref(false);
  /** The group open in the group view, and its newest messages, oldest first. */
  const openId = ref<string | null>(null);
  const messages = ref<GroupMessage[]>([]);
  /** Incoming messages the user has seen, per group (see above). */
  const seen = ref<Record<string, number>>({});

  const byId = computed(() => new Map(list.value.map((g) => [g.groupId, g])));
  const open = computed(() => (openId.value ? (byId.value.get(openId.value) ?? null) : null));

  /** Unread incoming messages of a group. */
  function unread(group: GroupSummary): number {
    return Math.max(0, group.incomingCount - (seen.value[group.groupId] ?? 0));
  }

  function upsert(group: GroupSummary): GroupSummary {
    const rest = list.value.filter((g) => g.groupId !== group.groupId);
    list.value = [...rest, group];
    if (seen.value[group.groupId] === undefined)
      seen.value = { ...seen.value, [group.groupId]: group.incomingCount };
    return group;
  }

  // A later refresh can overtake an earlier one; only the newest answer counts.
  let refreshSeq = 0;
  async function refresh(): Promise<void> {
    const mine = ++refreshSeq;
    const next = await call('groups:list', {});
    if (mine !== refreshSeq) return;
    // At the first load everything counts as read; a group that appears later is all new.
    const first = !loaded.value;
    const counts = { ...seen.value };
    for (const g of next) counts[g.groupId] ??= first ? g.incomingCount : 0;
    seen.value = counts;
    list.value = next;
    loaded.value = true;
  }

  // Reloads of the open group's messages can overlap too.
  let messagesSeq = 0;
  /** Opens a group (its newest messages), or re-reads the open one. */
  async function load(groupId: string): Promise<void> {
    const mine = ++messagesSeq;
    if (openId.value !== groupId) messages.value = [];
    openId.value = groupId;
    const [group, page] = await Promise.all([
      call('groups:get', { groupId }),
      call('groups:messages', { groupId, limit: GROUP_PAGE }),
    ]);
    if (mine !== messagesSeq) return;
    upsert(group);
    messages.value = [...page].reverse();
  }

  /** The open group is being read: its incoming messages stop counting as unread. */
  function markSeen(groupId: string): void {
    const group = byId.value.get(groupId);
    if (group) seen.value = { ...seen.value, [groupId]: group.incomingCount };
  }

  function close(): void {
    messagesSeq++;
    openId.value = null;
    messages.value = [];
  }

  /** Creates a group of `members` (conversation ids); we are its admin. */
  async function create(title: string, members: number[]): Promise<GroupSummary> {
    return upsert(await call('groups:create', { title, members }));
  }

  async function addMember(groupId: string, conversationId: number): Promise<GroupSummary> {
    return upsert(await call('groups:add', { groupId, conversationId }));
  }

  async function removeMember(groupId: string, accountId: string): Promise<GroupSummary> {
    return upsert(await call('groups:remove', { groupId, accountId }));
  }

  async function rename(groupId: string, title: string): Promise<GroupSummary> {
    return upsert(await call('groups:rename', { groupId, title }));
  }

  async function leave(groupId: string): Promise<GroupSummary> {
    return upsert(await call('groups:leave', { groupId }));
  }

  /** Sends to the open group; the message shows at once as queued. */
  async function send(groupId: string, body: string): Promise<GroupMessage> {
    const message = await call('groups:send', { groupId, body });
    if (openId.value === groupId && !messages.value.some((m) => m.id === message.id))
      messages.value = [...messages.value, message];
    const group = byId.value.get(groupId);
    if (group)
      upsert({ ...group, lastMessageAt: message.sentAt, lastMessagePreview: message.body });
    return message;
  }

  function reset(): void {
    refreshSeq++;
    messagesSeq++;
    list.value = [];
    loaded.value = false;
    openId.value = null;
    messages.value = [];
    seen.value = {};
  }

  return {
    list,
    loaded,
    openId,
    open,
    messages,
    byId,
    unread,
    refresh,
    load,
    markSeen,
    close,
    create,
    addMember,
    removeMember,
    rename,
    leave,
    send,
    reset,
  };
});
