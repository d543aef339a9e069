// The link a user clicked in a message, waiting for confirmation. Nothing
// leaves the app until the full URL was shown (LinkConfirmDialog) and
// confirmed; then the window asks to open it, and main's window-open handler
// checks it again and hands it to the OS browser (openExternalIfSafe).
import { ref } from 'vue';
import { safeHref } from '../message-links.ts';

// One pending link for the whole window: one dialog shows it. A new object per
// request, so asking again for the same URL is a change the dialog sees.
const pending = ref<{ readonly href: string } | null>(null);

/** The pending link, and the steps that ask about it, open it or drop it. */
export function useExternalLink() {
  return {
    pending,
    request: (href: string): void => {
      const safe = safeHref(href);
      pending.value = safe === null ? null : { href: safe };
    },
    open: (): void => {
      const href = pending.value?.href ?? null;
      pending.value = null;
      // noopener: the new window gets no handle on this one. Main denies the window and opens the OS browser.
      if (href !== null) window.open(href, '_blank', 'noopener,noreferrer');
    },
    cancel: (): void => {
      pending.value = null;
    },
  };
}
