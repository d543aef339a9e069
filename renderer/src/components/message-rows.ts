import type { Message } from '../../../shared/ipc/contract.ts';
import { dayKey } from '../composables/useFormat.ts';

/** What the virtualized history renders: messages, and a separator where the day changes. */
export type HistoryRow =
  | { readonly kind: 'day'; readonly key: string; readonly at: number }
  | { readonly kind: 'message'; readonly key: number; readonly message: Message };

/** Interleaves day separators into a loaded window (oldest first). */
export function toHistoryRows(messages: readonly Message[]): HistoryRow[] {
  const rows: HistoryRow[] = [];
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
