import { ref } from 'vue';
import { useI18n } from 'vue-i18n';
import type { ErrorCode } from '../../../shared/errors.ts';
import { errorCodeOf } from '../bridge.ts';

/** Turns a failure (or its code) into the locale's sentence; raw exception text is never shown. */
export function useErrorText(): (failure: unknown) => string {
  const { t } = useI18n();
  return (failure) => {
    const code: ErrorCode =
      typeof failure === 'string' ? (failure as ErrorCode) : errorCodeOf(failure);
    return t(`errors.${code}`);
  };
}

/**
 * A user action's state: `busy` while it runs, `error` holding the locale's
 * sentence if it failed. `run` clears the last error first and resolves false
 * on failure (it never rejects).
 */
export function useAction() {
  const errorText = useErrorText();
  const busy = ref(false);
  const error = ref<string | null>(null);
  async function run(work: () => Promise<unknown>): Promise<boolean> {
    busy.value = true;
    error.value = null;
    try {
      await work();
      return true;
    } catch (failure) {
      error.value = errorText(failure);
      return false;
    } finally {
      busy.value = false;
    }
  }
  return { busy, error, run };
}
