import { computed, nextTick, provide, ref, type Ref } from 'vue';
import { useVirtualizer } from '@tanstack/vue-virtual';
import { pinnedDay, type DatedMessage, type HistoryRow } from '../components/message-rows.ts';
import { MEDIA_HELD, scrollerSettled } from '../components/media-hold.ts';
import { inBackground } from '../background.ts';

/** Start loading the next page this far (px) from an end. */
export const EDGE_PX = 400;

/**
 * What a history store pages with (the 1:1 and the group stores alike): its
 * window's state and the loads at either end.
 */
export interface HistoryPaging {
  readonly loading: Readonly<Ref<boolean>>;
  readonly hasOlder: Readonly<Ref<boolean>>;
  readonly loadingOlder: Readonly<Ref<boolean>>;
  readonly hasNewer: Readonly<Ref<boolean>>;
  readonly loadingNewer: Readonly<Ref<boolean>>;
  loadOlder(): Promise<void>;
  loadNewer(): Promise<void>;
}

/**
 * The virtualized history of a conversation, 1:1 or group: only the rows near
 * the viewport exist in the DOM, whatever the history's length, with chat
 * scrolling (prepending older pages keeps the visible message in place; new
 * messages are followed only while the reader is at the end). `onScroll`
 * pages the store's window in as the reader nears either end.
 */
export function useVirtualHistory<M extends DatedMessage>(
  rows: Readonly<Ref<readonly HistoryRow<M>[]>>,
  scrollEl: Readonly<Ref<HTMLElement | null>>,
  paging: HistoryPaging,
  /** Estimated px message rows add to the text row, by message id (their files, sized from their pointers). */
  extraHeights: Readonly<Ref<ReadonlyMap<number, number>>> = ref(new Map()),
) {
  const virtualizer = useVirtualizer(
    computed(() => {
      const extra = extraHeights.value;
      return {
        count: rows.value.length,
        getScrollElement: () => scrollEl.value,
        estimateSize: (index: number) => {
          const row = rows.value[index];
          // row.key is the message id, a plain number: reading row.message.id would go
          // through the store's reactive proxy for every row of a 100,000-row window.
          return row?.kind === 'message' ? 68 + (extra.get(row.key) ?? 0) : 44;
        },
        getItemKey: (index: number) => rows.value[index]?.key ?? index,
        overscan: 8,
        paddingStart: 8,
        paddingEnd: 12,
        anchorTo: 'end' as const,
        followOnAppend: true,
        scrollEndThreshold: 80,
      };
    }),
  );

  /** The rows to render now, with their place in the virtual list. */
  const visible = computed(() =>
    virtualizer.value.getVirtualItems().flatMap((item) => {
      const row = rows.value[item.index];
      return row ? [{ item, row }] : [];
    }),
  );
  const totalSize = computed(() => virtualizer.value.getTotalSize());

  /** The day of the topmost visible row, pinned over the list (the inline separator may be scrolled away). */
  const topDay = computed(() =>
    pinnedDay(
      visible.value.map(({ item, row }) => ({ start: item.start, end: item.end, row })),
      virtualizer.value.scrollOffset ?? 0,
    ),
  );

  function measure(el: unknown): void {
    if (el instanceof Element) virtualizer.value.measureElement(el);
  }

  /**
   * Loads an older page and keeps the reader's place: the rows added above
   * would otherwise leave the view pinned at the very top, where scrolling up
   * further emits no scroll event and no further page would ever load.
   */
  async function prependInPlace(el: HTMLElement, load: () => Promise<void>): Promise<void> {
    const fromBottom = el.scrollHeight - el.scrollTop;
    await load();
    await nextTick();
    el.scrollTop = Math.max(0, el.scrollHeight - fromBottom);
  }

  // Moves under way (a newer one may start before an older one settles).
  let moves = 0;
  const mediaHeld = ref(false);
  provide(MEDIA_HELD, mediaHeld);

  /**
   * Scrolls with `scroll` (to the end, to a row) once the DOM has the rows,
   * holding the rows' media until the list has landed (media-hold.ts). Call
   * it before the rows render (a `pre` watcher on the request): the rows of
   * a window just loaded are first rendered at the old offset.
   */
  async function moveTo(scroll: () => void): Promise<void> {
    moves++;
    mediaHeld.value = true;
    try {
      await nextTick();
      scroll();
      if (scrollEl.value) await scrollerSettled(scrollEl.value);
    } finally {
      mediaHeld.value = --moves > 0;
    }
  }

  /** The scroller's scroll handler: an older page near the top, a newer one near the bottom. */
  function onScroll(): void {
    const el = scrollEl.value;
    if (!el || paging.loading.value) return;
    if (el.scrollTop < EDGE_PX && paging.hasOlder.value && !paging.loadingOlder.value)
      inBackground(prependInPlace(el, () => paging.loadOlder()));
    const fromEnd = el.scrollHeight - el.scrollTop - el.clientHeight;
    if (fromEnd < EDGE_PX && paging.hasNewer.value && !paging.loadingNewer.value)
      inBackground(paging.loadNewer());
  }

  return { virtualizer, visible, totalSize, topDay, measure, onScroll, moveTo };
}
