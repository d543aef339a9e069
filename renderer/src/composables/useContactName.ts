import { useI18n } from 'vue-i18n';

/** A contact's name, or for one who never told us theirs, a short form of their account id. */
export function useContactName() {
  const { t } = useI18n();
  return (
    contact: { displayName: string | null; accountId: string } | null | undefined,
  ): string => {
    if (contact?.displayName) return contact.displayName;
    if (contact?.accountId)
      return t('conversations.unnamed', { id: contact.accountId.slice(0, 8) });
    return t('conversations.unknownName');
  };
}
