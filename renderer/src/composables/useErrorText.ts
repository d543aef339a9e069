import { useI18n } from 'vue-i18n';
import type { ErrorCode } from '../../../shared/errors.ts';
import { errorCodeOf } from '../bridge.ts';

/** Turns a failure (or its code) into the locale's sentence; raw exception text is never shown. */
export function useErrorText(): (failure: unknown) => string {
  const { t } = useI18n();
  return (failure) => {
    const code: ErrorCode = typeof failure === 'string' ? (failure as ErrorCode) : errorCodeOf(failure);
    return t(`errors.${code}`);
  };
}
