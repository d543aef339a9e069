import { defineStore } from 'pinia';
import { computed, ref } from 'vue';
import type { GroupMessage, GroupSummary } from '../../../shared/ipc/groups.ts';
import { call } from '../bridge.ts';
import { GROUP_PAGE, capped, compareMessages, mergeNewest } from '../group-window.ts';

export { GROUP_PAGE } from '../group-window.ts';

/** When a group was last active: its last message, else its last change (creation, rename). */
export function groupActivity(group: GroupSummary): number {
  return group.lastMessageAt ?? group.updatedAt;
}

/**
 * Group conversations: the list (next to the 1:1 conversations), the open
 * group's loaded window of history, and unread counts, which the core keeps
 * (a read marker per group, marked read while the group is open in a visible
 * window). The window is capped as a 1:1 one is (MAX_LOADED): scrolling up
 * drops the newest end, which pages back in (`loadNewer`) on the way down.
 */
export const useGroupsStore = defineStore('groups', () => {
  const list = ref<GroupSummary[]>([]);
  const loaded = ref(false);
  /** The group open in the group view, and its loaded messages, oldest first. */
  const openId = ref<string | null>(null);
  const messages = ref<GroupMessage[]>([]);
  const hasOlder = ref(false);
  /** The window's newest end was dropped (the cap): newer messages page back in. */
  const hasNewer = ref(false);
  const loading = ref(false);
  const loadingOlder = ref(false);
  const loadingNewer = ref(false);
  /** Bumped when the list should show its end (a group opened at its newest page, a message sent). */
  const endRequest = ref(0);

  const byId = computed(() => new Map(list.value.map((g) => [g.groupId, g])));
  const open = computed(() => (openId.value ? (byId.value.get(openId.value) ?? null) : null));

  function upsert(group: GroupSummary): GroupSummary {
    const rest = list.value.filter((g) => g.groupId !== group.groupId);
    list.value = [...rest, group];
    return group;
  }

  function patch(groupId: string, changes: Partial<GroupSummary>): void {
    const group = byId.value.get(groupId);
    if (group) upsert({ ...group, ...changes });
  }

  // A later refresh can overtake an earlier one; only the newest answer counts.
  let refreshSeq = 0;
  async function refresh(): Promise<void> {
    const mine = ++refreshSeq;
    const next = await call('groups:list', {});
    if (mine !== refreshSeq) return;
    list.value = next;
    loaded.value = true;
  }

  // Reloads of the open group's messages can overlap too; `windowSeq` changes only when the
  // loaded window starts over (another group, a close), so an older page lands only in its own window.
  let messagesSeq = 0;
  let windowSeq = 0;
  /**
   * Opens a group at its newest messages, or re-reads the open one (keeping
   * older pages loaded); `latest` starts the open one over at its newest page.
   */
  async function load(groupId: string, latest = false): Promise<void> {
    const mine = ++messagesSeq;
    const fresh = latest || openId.value !== groupId;
    if (fresh) {
      windowSeq++;
      messages.value = [];
      hasOlder.value = false;
      hasNewer.value = false;
      loading.value = true;
    }
    openId.value = groupId;
    try {
      const [group, page] = await Promise.all([
        call('groups:get', { groupId }),
        call('groups:messages', { groupId, limit: GROUP_PAGE }),
      ]);
      if (mine !== messagesSeq) return;
      upsert(group);
      if (hasNewer.value) {
        // The reader is in older history: only rows already shown change (a status).
        const reread = new Map(page.map((m) => [m.id, m]));
        messages.value = messages.value.map((m) => reread.get(m.id) ?? m);
        return;
      }
      const merged = mergeNewest(fresh ? [] : messages.value, page);
      const window = capped(merged.messages, 'oldest');
      messages.value = window.messages;
      if (merged.restarted) {
        hasOlder.value = page.length === GROUP_PAGE;
        endRequest.value++;
      }
      if (window.dropped) hasOlder.value = true;
    } finally {
      if (mine === messagesSeq) loading.value = false;
    }
  }

  /** Loads the page before the oldest loaded message of the open group. */
  async function loadOlder(): Promise<void> {
    const groupId = openId.value;
    const first = messages.value[0];
    if (groupId === null || !first || !hasOlder.value || loadingOlder.value) return;
    const mine = windowSeq;
    loadingOlder.value = true;
    try {
      const page = await call('groups:messages', {
        groupId,
        limit: GROUP_PAGE,
        before: { sentAt: first.sentAt, id: first.id },
      });
      if (mine !== windowSeq) return;
      const known = new Set(messages.value.map((m) => m.id));
      const window = capped(
        [...page.filter((m) => !known.has(m.id)).reverse(), ...messages.value],
        'newest',
      );
      messages.value = window.messages;
      hasOlder.value = page.length === GROUP_PAGE;
      if (window.dropped) hasNewer.value = true;
    } finally {
      loadingOlder.value = false;
    }
  }

  /** Loads the page after the newest loaded message (the cap dropped it scrolling up). */
  async function loadNewer(): Promise<void> {
    const groupId = openId.value;
    const last = messages.value.at(-1);
    if (groupId === null || !last || !hasNewer.value || loadingNewer.value) return;
    const mine = windowSeq;
    loadingNewer.value = true;
    try {
      // `after` pages come oldest first.
      const page = await call('groups:messages', {
        groupId,
        limit: GROUP_PAGE,
        after: { sentAt: last.sentAt, id: last.id },
      });
      if (mine !== windowSeq) return;
      const known = new Set(messages.value.map((m) => m.id));
      const window = capped([...messages.value, ...page.filter((m) => !known.has(m.id))], 'oldest');
      messages.value = window.messages;
      hasNewer.value = page.length === GROUP_PAGE;
      if (window.dropped) hasOlder.value = true;
    } finally {
      loadingNewer.value = false;
    }
  }

  /** A group message pushed by the core (`group:message`): shown at once if its group is open. */
  function receive(message: GroupMessage): void {
    if (message.groupId !== openId.value || messages.value.some((m) => m.id === message.id)) return;
    // Reading older history: the new one arrives when paging forward.
    if (hasNewer.value) return;
    const window = capped([...messages.value, message].sort(compareMessages), 'oldest');
    messages.value = window.messages;
    if (window.dropped) hasOlder.value = true;
  }

  /** Drops deleted messages of a group from the open window ("Delete for me"). */
  function forget(groupId: string, messageIds: readonly number[]): void {
    if (groupId !== openId.value) return;
    const gone = new Set(messageIds);
    messages.value = messages.value.filter((m) => !gone.has(m.id));
  }

  /**
   * The open group is being read: the core moves its read marker. Always
   * asked, as for 1:1: the row's count is only a copy from the last refresh.
   */
  async function markRead(groupId: string): Promise<void> {
    patch(groupId, { unreadCount: 0 });
    await call('groups:mark-read', { groupId });
  }

  function close(): void {
    messagesSeq++;
    windowSeq++;
    openId.value = null;
    messages.value = [];
    hasOlder.value = false;
    hasNewer.value = false;
    loading.value = false;
  }

  /** Mutes a group for `durationMs` (null: until unmuted); the core keeps it. */
  async function mute(groupId: string, durationMs: number | null): Promise<GroupSummary> {
    return upsert(await call('groups:mute', { groupId, durationMs }));
  }

  async function unmute(groupId: string): Promise<GroupSummary> {
    return upsert(await call('groups:unmute', { groupId }));
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
    // Sending from older history brings the reader back to the present.
    if (openId.value === groupId && hasNewer.value) await load(groupId, true);
    else receive(message);
    if (openId.value === groupId) endRequest.value++;
    patch(groupId, { lastMessageAt: message.sentAt, lastMessagePreview: message.body });
    return message;
  }

  /** Queues a failed message of the open group again; it shows as queued at once. */
  async function retry(messageId: number): Promise<void> {
    const message = await call('groups:retry', { messageId });
    messages.value = messages.value.map((m) => (m.id === message.id ? message : m));
  }

  /** A member's safety number from the key the group carries (members who are not contacts too). */
  function memberSafetyNumber(groupId: string, accountId: string) {
    return call('groups:member-safety-number', { groupId, accountId });
  }

  /** The user compared a member's safety number: that key is verified. */
  async function verifyMember(groupId: string, accountId: string): Promise<void> {
    await call('groups:verify-member', { groupId, accountId });
  }

  function reset(): void {
    refreshSeq++;
    list.value = [];
    loaded.value = false;
    close();
  }

  return {
    list,
    loaded,
    openId,
    open,
    messages,
    hasOlder,
    hasNewer,
    loading,
    loadingOlder,
    loadingNewer,
    endRequest,
    byId,
    refresh,
    load,
    loadOlder,
    loadNewer,
    receive,
    forget,
    markRead,
    mute,
    unmute,
    close,
    create,
    addMember,
    removeMember,
    rename,
    leave,
    send,
    retry,
    memberSafetyNumber,
    verifyMember,
    reset,
  };
});
