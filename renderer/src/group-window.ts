import type { GroupMessage } from '../../shared/ipc/groups.ts';
import { MAX_LOADED } from './stores/messages.ts';

// The open group's loaded window of history, as pure functions the groups
// store applies: merging a re-read newest page, and the cap on its length.

/** Messages per `groups:messages` request (the newest page on open, then a page per scroll). */
export const GROUP_PAGE = 50;

/** The window capped at MAX_LOADED (as a 1:1 one), dropping from the end away from the reader. */
export function capped(
  window: GroupMessage[],
  drop: 'oldest' | 'newest',
): { messages: GroupMessage[]; dropped: boolean } {
  if (window.length <= MAX_LOADED) return { messages: window, dropped: false };
  const kept =
    drop === 'oldest' ? window.slice(window.length - MAX_LOADED) : window.slice(0, MAX_LOADED);
  return { messages: kept, dropped: true };
}

/** History order: (sentAt, id), as the core pages it. */
export function compareMessages(a: GroupMessage, b: GroupMessage): number {
  return a.sentAt - b.sentAt || a.id - b.id;
}

/**
 * The loaded window after a re-read of the newest page: changed rows replaced,
 * new ones added. A full page that starts after the window ends left a gap
 * (more arrived than a page): the window restarts from that page.
 */
export function mergeNewest(
  loaded: readonly GroupMessage[],
  newestFirst: readonly GroupMessage[],
): { messages: GroupMessage[]; restarted: boolean } {
  const page = [...newestFirst].reverse();
  const last = loaded.at(-1);
  const first = page[0];
  if (
    !last ||
    (first &&
      page.length === GROUP_PAGE &&
      compareMessages(first, last) > 0 &&
      !loaded.some((m) => m.id === first.id))
  )
    return { messages: page, restarted: true };
  const fresh = new Map(page.map((m) => [m.id, m]));
  const kept = loaded.map((m) => fresh.get(m.id) ?? m);
  const known = new Set(loaded.map((m) => m.id));
  const added = page.filter((m) => !known.has(m.id));
  return { messages: [...kept, ...added].sort(compareMessages), restarted: false };
}
