import { defineStore } from 'pinia';
import { computed, ref } from 'vue';
import type { SyncStatus } from '../../../shared/ipc/contract.ts';
import { call } from '../bridge.ts';

/** Connection state, outbox size and backlog progress (sync:status + its push event). */
export const useSyncStore = defineStore('sync', () => {
  const status = ref<SyncStatus | null>(null);

  const connection = computed(() => status.value?.connection ?? null);
  const outbox = computed(() => status.value?.outbox ?? 0);
  /** Messages received so far while catching up, or null when not catching up. */
  const backlogReceived = computed(() => status.value?.backlog?.received ?? null);
  /** Offline (or still connecting) with a relay configured. */
  const offline = computed(
    () => connection.value === 'offline' || connection.value === 'connecting',
  );

  async function load(): Promise<void> {
    status.value = await call('sync:status', {});
  }

  function apply(next: SyncStatus): void {
    status.value = next;
  }

  function reset(): void {
    status.value = null;
  }

  return { status, connection, outbox, backlogReceived, offline, load, apply, reset };
});
