import { defineStore } from 'pinia';
import { ref } from 'vue';
import type { Message } from '../../../shared/ipc/contract.ts';
import { call } from '../bridge.ts';
import { useConversationsStore } from './conversations.ts';

/** Messages per `messages:page` request. */
export const PAGE_SIZE = 50;
/** Messages per `messages:around` request (a jump to a search hit). */
export const AROUND_SIZE = 100;
/** The loaded window is capped: loading past it drops the far end (reloaded on demand). */
export const MAX_LOADED = 600;
/** Draft saves wait for a pause in typing. */
export const DRAFT_SAVE_MS = 400;

export type ScrollRequest =
  | { readonly kind: 'end'; readonly seq: number }
  | { readonly kind: 'message'; readonly messageId: number; readonly seq: number };

/** History order: (sentAt, id), as the core pages it. */
function compareMessages(a: Message, b: Message): number {
  return a.sentAt - b.sentAt || a.id - b.id;
}

const cursorOf = (m: Message) => ({ sentAt: m.sentAt, id: m.id });

/**
 * The open conversation's loaded window of history (oldest first), paged with
 * `messages:page` in both directions, plus drafts per conversation. Only a
 * window is held: a 100,000-message conversation never sits in memory whole.
 */
export const useMessagesStore = defineStore('messages', () => {
  const conversationId = ref<number | null>(null);
  const messages = ref<Message[]>([]);
  const hasOlder = ref(false);
  const hasNewer = ref(false);
  const loading = ref(false);
  const loadingOlder = ref(false);
  const loadingNewer = ref(false);
  /** The message a jump landed on (highlighted until the next jump or open). */
  const highlightedId = ref<number | null>(null);
  /** What the list should scroll to next; `seq` makes repeated requests distinct. */
  const scrollRequest = ref<ScrollRequest | null>(null);
  /** Drafts by conversation id (memory only; the core keeps the saved copy). */
  const drafts = ref<Record<number, string>>({});

  let seq = 0;
  let scrollSeq = 0;
  const draftTimers = new Map<number, ReturnType<typeof setTimeout>>();

  function requestScroll(request: { kind: 'end' } | { kind: 'message'; messageId: number }): void {
    scrollRequest.value = { ...request, seq: ++scrollSeq };
  }

  function begin(id: number): number {
    conversationId.value = id;
    messages.value = [];
    hasOlder.value = false;
    hasNewer.value = false;
    highlightedId.value = null;
    loading.value = true;
    return ++seq;
  }

  /** Opens a conversation at its newest messages. */
  async function openLatest(id: number): Promise<void> {
    const mine = begin(id);
    try {
      const page = await call('messages:page', { conversationId: id, limit: PAGE_SIZE });
      if (mine !== seq) return;
      messages.value = [...page].reverse();
      hasOlder.value = page.length === PAGE_SIZE;
      requestScroll({ kind: 'end' });
    } finally {
      if (mine === seq) loading.value = false;
    }
  }

  /** Loads a window around one message (a search hit) and asks the list to show it. */
  async function jumpTo(messageId: number): Promise<number> {
    const mine = ++seq;
    loading.value = true;
    try {
      const around = await call('messages:around', { messageId, limit: AROUND_SIZE });
      if (mine !== seq) return around.conversationId;
      conversationId.value = around.conversationId;
      messages.value = [...around.messages].sort(compareMessages);
      // The core does not say which side ran out; a short page in that direction will.
      hasOlder.value = around.messages.length > 0;
      hasNewer.value = around.messages.length > 0;
      highlightedId.value = messageId;
      requestScroll({ kind: 'message', messageId });
      return around.conversationId;
    } finally {
      if (mine === seq) loading.value = false;
    }
  }

  async function loadOlder(): Promise<void> {
    const id = conversationId.value;
    const first = messages.value[0];
    if (id === null || !first || !hasOlder.value || loadingOlder.value) return;
    const mine = seq;
    loadingOlder.value = true;
    try {
      const page = await call('messages:page', {
        conversationId: id,
        limit: PAGE_SIZE,
        before: cursorOf(first),
      });
      if (mine !== seq) return;
      const known = new Set(messages.value.map((m) => m.id));
      const older = page.filter((m) => !known.has(m.id)).reverse();
      let next = [...older, ...messages.value];
      if (next.length > MAX_LOADED) {
        next = next.slice(0, MAX_LOADED);
        hasNewer.value = true;
      }
      messages.value = next;
      hasOlder.value = page.length === PAGE_SIZE;
    } finally {
      loadingOlder.value = false;
    }
  }

  async function loadNewer(): Promise<void> {
    const id = conversationId.value;
    const last = messages.value.at(-1);
    if (id === null || !last || !hasNewer.value || loadingNewer.value) return;
    const mine = seq;
    loadingNewer.value = true;
    try {
      // `after` pages come oldest first.
      const page = await call('messages:page', {
        conversationId: id,
        limit: PAGE_SIZE,
        after: cursorOf(last),
      });
      if (mine !== seq) return;
      const known = new Set(messages.value.map((m) => m.id));
      let next = [...messages.value, ...page.filter((m) => !known.has(m.id))];
      if (next.length > MAX_LOADED) {
        next = next.slice(next.length - MAX_LOADED);
        hasOlder.value = true;
      }
      messages.value = next;
      hasNewer.value = page.length === PAGE_SIZE;
    } finally {
      loadingNewer.value = false;
    }
  }

  /** A message for the open conversation (sent here, or pushed by the core). */
  function receive(message: Message): void {
    if (message.conversationId !== conversationId.value) return;
    const index = messages.value.findIndex((m) => m.id === message.id);
    if (index >= 0) {
      messages.value = messages.value.map((m) => (m.id === message.id ? message : m));
      return;
    }
    // After a jump the newest messages are not loaded; the new one arrives when paging forward.
    if (hasNewer.value) return;
    const next = [...messages.value, message].sort(compareMessages);
    messages.value = next.length > MAX_LOADED ? next.slice(next.length - MAX_LOADED) : next;
    if (next.length > MAX_LOADED) hasOlder.value = true;
  }

  function applyStatus(messageId: number, status: Message['status']): void {
    if (!messages.value.some((m) => m.id === messageId)) return;
    messages.value = messages.value.map((m) => (m.id === messageId ? { ...m, status } : m));
  }

  /** Sends a message; it shows at once as `queued`, and status events move it on. */
  async function send(id: number, body: string): Promise<Message> {
    const message = await call('messages:send', { conversationId: id, body });
    if (conversationId.value === id && hasNewer.value) {
      // The user is reading old history; sending brings them back to the present.
      await openLatest(id);
    } else {
      receive(message);
      if (conversationId.value === id) requestScroll({ kind: 'end' });
    }
    useConversationsStore().patchRow(id, {
      lastMessageAt: message.sentAt,
      lastMessagePreview: message.body,
    });
    return message;
  }

  async function retry(messageId: number): Promise<void> {
    const message = await call('messages:retry', { messageId });
    receive(message);
  }

  /** Drops deleted messages of a conversation from the loaded window ("Delete for me", here or in another window). */
  function forget(id: number, messageIds: readonly number[]): void {
    if (conversationId.value !== id) return;
    const gone = new Set(messageIds);
    messages.value = messages.value.filter((m) => !gone.has(m.id));
    if (highlightedId.value !== null && gone.has(highlightedId.value)) highlightedId.value = null;
  }

  /** Takes the core's saved draft unless this session already has one for the conversation. */
  function restoreDraft(id: number, saved: string | null): void {
    if (drafts.value[id] === undefined) drafts.value = { ...drafts.value, [id]: saved ?? '' };
  }

  async function saveDraft(id: number): Promise<void> {
    const timer = draftTimers.get(id);
    if (timer !== undefined) clearTimeout(timer);
    draftTimers.delete(id);
    const text = drafts.value[id] ?? '';
    const draft = text.trim() === '' ? null : text;
    useConversationsStore().patchRow(id, { hasDraft: draft !== null });
    await call('conversations:set-draft', { conversationId: id, draft });
  }

  /** Updates a draft now and saves it after a pause (`onError` sees a failed save). */
  function setDraft(id: number, text: string, onError: (error: unknown) => void): void {
    drafts.value = { ...drafts.value, [id]: text };
    const timer = draftTimers.get(id);
    if (timer !== undefined) clearTimeout(timer);
    draftTimers.set(
      id,
      setTimeout(() => {
        saveDraft(id).catch(onError);
      }, DRAFT_SAVE_MS),
    );
  }

  /** Saves a pending draft at once (leaving a conversation); nothing to do if none is pending. */
  async function flushDraft(id: number): Promise<void> {
    if (draftTimers.has(id)) await saveDraft(id);
  }

  /** Saves every pending draft (before locking). */
  async function flushAllDrafts(): Promise<void> {
    await Promise.all([...draftTimers.keys()].map((id) => saveDraft(id)));
  }

  /**
   * Forgets the window: the conversation view closed, or opens a conversation
   * afresh. A window kept for the next visit rendered first, at the top,
   * until the newest page replaced it, and its rows' images loaded for
   * nothing; and an incoming message of a conversation no longer on screen
   * was marked read. Answers still under way are dropped; drafts stay.
   */
  function close(): void {
    seq++;
    conversationId.value = null;
    messages.value = [];
    hasOlder.value = false;
    hasNewer.value = false;
    loading.value = false;
    loadingOlder.value = false;
    loadingNewer.value = false;
    highlightedId.value = null;
    scrollRequest.value = null;
  }

  function reset(): void {
    close();
    for (const timer of draftTimers.values()) clearTimeout(timer);
    draftTimers.clear();
    drafts.value = {};
  }

  return {
    conversationId,
    messages,
    hasOlder,
    hasNewer,
    loading,
    loadingOlder,
    loadingNewer,
    highlightedId,
    scrollRequest,
    drafts,
    openLatest,
    jumpTo,
    loadOlder,
    loadNewer,
    receive,
    applyStatus,
    send,
    retry,
    forget,
    restoreDraft,
    setDraft,
    flushDraft,
    flushAllDrafts,
    close,
    reset,
  };
});
