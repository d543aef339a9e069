import { useNoticesStore } from '../stores/notices.ts';

/** Copies text and says whether it worked (the permission can be denied by the shell). */
export function useClipboard() {
  const notices = useNoticesStore();
  return async (text: string): Promise<boolean> => {
    try {
      await navigator.clipboard.writeText(text);
      notices.push('notices.copied');
      return true;
    } catch {
      notices.push('notices.copyFailed');
      return false;
    }
  };
}
