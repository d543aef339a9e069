import { defineStore } from 'pinia';
import { computed, ref } from 'vue';
import type { Conversation, ConversationDetail } from '../../../shared/ipc/contract.ts';
import { call } from '../bridge.ts';

/** Newest activity first; conversations without messages last, then by id for a stable order. */
export function byRecentActivity(a: Conversation, b: Conversation): number {
  const at = a.lastMessageAt ?? -Infinity;
  const bt = b.lastMessageAt ?? -Infinity;
  if (at !== bt) return bt - at;
  return b.id - a.id;
}

export const useConversationsStore = defineStore('conversations', () => {
  const list = ref<Conversation[]>([]);
  /** The conversation open in the chat view. */
  const active = ref<ConversationDetail | null>(null);
  const loaded = ref(false);

  const sorted = computed(() => [...list.value].sort(byRecentActivity));
  // As the app badge counts: muted conversations keep their own count but add nothing here.
  const totalUnread = computed(() =>
    list.value.reduce((sum, c) => sum + (c.mutedUntil === null ? c.unreadCount : 0), 0),
  );
  const byId = computed(() => new Map(list.value.map((c) => [c.id, c])));

  // A later refresh can overtake an earlier one; only the newest answer counts.
  let refreshSeq = 0;
  async function refresh(): Promise<void> {
    const seq = ++refreshSeq;
    const next = await call('conversations:list', {});
    if (seq !== refreshSeq) return;
    list.value = next;
    loaded.value = true;
    const current = active.value;
    if (current) {
      const row = next.find((c) => c.id === current.id);
      if (row) active.value = { ...current, ...row };
    }
  }

  /** Loads the detail (draft, verified, identity flag) of the conversation being opened. */
  async function open(conversationId: number): Promise<ConversationDetail> {
    const detail = await call('conversations:get', { conversationId });
    active.value = detail;
    return detail;
  }

  /** Re-reads the open conversation's detail (after verify / accept identity). */
  async function reloadActive(): Promise<void> {
    if (active.value) await open(active.value.id);
  }

  function close(): void {
    active.value = null;
  }

  function patchRow(conversationId: number, patch: Partial<Conversation>): void {
    list.value = list.value.map((c) => (c.id === conversationId ? { ...c, ...patch } : c));
  }

  /**
   * Tells the core the conversation is read, always: the list row is only a
   * copy of the core's count from the last refresh, and a message that just
   * arrived is counted in the core before the row shows it (an early return
   * on a 0 row left the badge on the open conversation).
   */
  async function markRead(conversationId: number): Promise<void> {
    patchRow(conversationId, { unreadCount: 0 });
    await call('conversations:mark-read', { conversationId });
  }

  /** Mutes a conversation for `durationMs` (null: until unmuted); the core keeps it. */
  async function mute(conversationId: number, durationMs: number | null): Promise<void> {
    const row = await call('conversations:mute', { conversationId, durationMs });
    patchRow(conversationId, row);
    if (active.value?.id === conversationId) active.value = { ...active.value, ...row };
  }

  async function unmute(conversationId: number): Promise<void> {
    const row = await call('conversations:unmute', { conversationId });
    patchRow(conversationId, row);
    if (active.value?.id === conversationId) active.value = { ...active.value, ...row };
  }

  function reset(): void {
    refreshSeq++;
    list.value = [];
    active.value = null;
    loaded.value = false;
  }

  return {
    list,
    active,
    loaded,
    sorted,
    totalUnread,
    byId,
    refresh,
    open,
    reloadActive,
    close,
    patchRow,
    markRead,
    mute,
    unmute,
    reset,
  };
});
