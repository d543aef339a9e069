import { ref } from 'vue';
import type { Settings } from '../../../shared/ipc/contract.ts';
import { useSettingsStore } from '../stores/settings.ts';
import { useErrorText } from './useErrorText.ts';

/** Saves a settings change and keeps its error text for the section that made it. */
export function useSettingUpdate() {
  const store = useSettingsStore();
  const errorText = useErrorText();
  const error = ref<string | null>(null);
  const saving = ref(false);
  const saved = ref(false);

  async function update(patch: Partial<Settings>): Promise<boolean> {
    error.value = null;
    saved.value = false;
    saving.value = true;
    try {
      await store.update(patch);
      saved.value = true;
      return true;
    } catch (failure) {
      error.value = errorText(failure);
      return false;
    } finally {
      saving.value = false;
    }
  }

  return { update, error, saving, saved };
}
