import { useI18n } from 'vue-i18n';
import type { ErrorCode } from '../../../shared/errors.ts';

/**
 * The sentence for a backup failure. WRONG_PASSPHRASE is about the backup's
 * passphrase here, not the profile's, so it gets its own words; a merge checks
 * both passphrases and the code does not say which one was wrong.
 */
export function useBackupErrorText(): (code: ErrorCode, context?: 'backup' | 'merge') => string {
  const { t } = useI18n();
  return (code, context = 'backup') => (code === 'WRONG_PASSPHRASE' ? t(`backup.wrongPassphrase.${context}`) : t(`errors.${code}`));
}
