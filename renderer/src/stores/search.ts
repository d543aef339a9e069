import { defineStore } from 'pinia';
import { computed, ref } from 'vue';
import type { Message } from '../../../shared/ipc/contract.ts';
import { call } from '../bridge.ts';

/** Typing pauses this long before a search runs. */
export const SEARCH_DEBOUNCE_MS = 250;
export const SEARCH_LIMIT = 50;

/** Full-text search across all conversations, debounced; stale answers are dropped. */
export const useSearchStore = defineStore('search', () => {
  const query = ref('');
  const results = ref<Message[]>([]);
  const searching = ref(false);
  /** The query the current results answer (so the UI can say "no results for …"). */
  const answered = ref<string | null>(null);

  const active = computed(() => query.value.trim() !== '');

  let timer: ReturnType<typeof setTimeout> | undefined;
  let seq = 0;

  async function run(text: string): Promise<void> {
    const mine = ++seq;
    const trimmed = text.trim();
    if (trimmed === '') {
      results.value = [];
      answered.value = null;
      searching.value = false;
      return;
    }
    searching.value = true;
    try {
      const found = await call('messages:search', { query: trimmed, limit: SEARCH_LIMIT });
      if (mine !== seq) return;
      results.value = found;
      answered.value = trimmed;
    } finally {
      if (mine === seq) searching.value = false;
    }
  }

  /** Sets the query; the search runs once typing pauses (`onError` sees a failed search). */
  function setQuery(text: string, onError: (error: unknown) => void): void {
    query.value = text;
    if (timer !== undefined) clearTimeout(timer);
    if (text.trim() === '') {
      timer = undefined;
      void run('');
      return;
    }
    searching.value = true;
    timer = setTimeout(() => {
      timer = undefined;
      run(text).catch(onError);
    }, SEARCH_DEBOUNCE_MS);
  }

  function clear(): void {
    if (timer !== undefined) clearTimeout(timer);
    timer = undefined;
    seq++;
    query.value = '';
    results.value = [];
    answered.value = null;
    searching.value = false;
  }

  /** Drops deleted messages of a conversation from the results. */
  function forget(conversationId: number, messageIds: readonly number[]): void {
    const gone = new Set(messageIds);
    results.value = results.value.filter(
      (m) => m.conversationId !== conversationId || !gone.has(m.id),
    );
  }

  return {
    query,
    results,
    searching,
    answered,
    active,
    setQuery,
    run,
    clear,
    forget,
    reset: clear,
  };
});
