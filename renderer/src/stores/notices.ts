import { defineStore } from 'pinia';
import { ref } from 'vue';
import type { ErrorCode } from '../../../shared/errors.ts';

/** A short message shown in the notice area (announced by screen readers). */
export interface Notice {
  readonly id: number;
  /** A locale key, e.g. `errors.RELAY_UNAVAILABLE` or `notices.copied`. */
  readonly key: string;
}

const SHOW_MS = 6000;

// Failures of work nobody awaits (background refreshes, debounced saves) land
// here, so they are visible and never swallowed or logged with content.
export const useNoticesStore = defineStore('notices', () => {
  const notices = ref<Notice[]>([]);
  let nextId = 1;

  function dismiss(id: number): void {
    notices.value = notices.value.filter((n) => n.id !== id);
  }

  function push(key: string): void {
    const id = nextId++;
    // The same message twice in a row is noise.
    if (notices.value.some((n) => n.key === key)) return;
    notices.value = [...notices.value, { id, key }];
    setTimeout(() => dismiss(id), SHOW_MS);
  }

  function pushError(code: ErrorCode): void {
    push(`errors.${code}`);
  }

  function reset(): void {
    notices.value = [];
  }

  return { notices, push, pushError, dismiss, reset };
});
