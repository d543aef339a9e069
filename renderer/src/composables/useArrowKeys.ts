// Arrow keys through a list of links (conversations, search results): Up and
// Down move focus to the previous or next item, Home and End to the ends. Tab
// still leaves the list; Enter opens the focused item as any link.
import type { Ref } from 'vue';

const KEYS = ['ArrowDown', 'ArrowUp', 'Home', 'End'];

/** A keydown handler for `container` that moves focus among its `selector` items. */
export function useArrowKeys(
  container: Ref<HTMLElement | null>,
  selector: string,
): (event: KeyboardEvent) => void {
  return (event) => {
    if (!KEYS.includes(event.key) || event.altKey || event.ctrlKey || event.metaKey) return;
    const items = [...(container.value?.querySelectorAll<HTMLElement>(selector) ?? [])];
    if (items.length === 0) return;
    event.preventDefault();
    const index = items.indexOf(document.activeElement as HTMLElement);
    const last = items.length - 1;
    const next =
      event.key === 'Home'
        ? 0
        : event.key === 'End'
          ? last
          : event.key === 'ArrowDown'
            ? Math.min(index + 1, last)
            : Math.max(index - 1, 0);
    items[next]?.focus();
  };
}
