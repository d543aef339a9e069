import { defineStore } from 'pinia';
import { ref } from 'vue';
import type { Settings } from '../../../shared/ipc/contract.ts';
import { call } from '../bridge.ts';

// Settings live in the core (settings:get/set), not in web storage.
export const useSettingsStore = defineStore('settings', () => {
  const settings = ref<Settings | null>(null);

  async function load(): Promise<void> {
    settings.value = await call('settings:get', {});
  }

  async function update(patch: Partial<Settings>): Promise<void> {
    settings.value = await call('settings:set', patch);
  }

  function reset(): void {
    settings.value = null;
  }

  return { settings, load, update, reset };
});
