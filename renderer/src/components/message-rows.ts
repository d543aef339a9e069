import type { Message } from '../../../shared/ipc/contract.ts';
import { dayKey } from '../composables/useFormat.ts';

/** What a history row needs of a message, 1:1 or group. */
export interface DatedMessage {
  readonly id: number;
  readonly sentAt: number;
}

/** What the virtualized history renders: messages, and a separator where the day changes. */
export type HistoryRow<M extends DatedMessage = Message> =
  | { readonly kind: 'day'; readonly key: string; readonly at: number }
  | { readonly kind: 'message'; readonly key: number; readonly message: M };

/** Interleaves day separators into a loaded window (oldest first). */
export function toHistoryRows<M extends DatedMessage>(messages: readonly M[]): HistoryRow<M>[] {
  const rows: HistoryRow<M>[] = [];
  let day: string | null = null;
  for (const message of messages) {
    const key = dayKey(message.sentAt);
    if (key !== day) {
      day = key;
      // Keyed by day, so the separator keeps its identity when older pages are prepended.
      rows.push({ kind: 'day', key: `day-${key}`, at: message.sentAt });
    }
    rows.push({ kind: 'message', key: message.id, message });
  }
  return rows;
}

/** How far (px) below the top of the history the pinned day chip reaches. */
export const PINNED_DAY_ZONE_PX = 40;

/** A rendered row and where it sits in the virtual list. */
export interface PlacedRow {
  readonly start: number;
  readonly end: number;
  readonly row: HistoryRow<DatedMessage>;
}

/**
 * The day to pin over the top of the history, or null. The chip names the day
 * of the topmost message; it hides while an in-list separator is under it (at
 * the top of a short conversation, or scrolling past a day change), so two
 * day labels never overlap.
 */
export function pinnedDay(
  placed: readonly PlacedRow[],
  scrollOffset: number,
  zone = PINNED_DAY_ZONE_PX,
): number | null {
  const under = placed.filter(
    ({ start, end }) => end > scrollOffset && start < scrollOffset + zone,
  );
  const first = under[0];
  if (!first || under.some(({ row }) => row.kind === 'day')) return null;
  return first.row.kind === 'message' ? first.row.message.sentAt : null;
}
