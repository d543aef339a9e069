import type { EnvelopeOutcome } from '../messaging/receive.ts';

// What SyncEngine.receive reports: counts of each outcome over a drain.

/** What one drain of the mailbox did. */
export interface ReceiveReport {
  readonly stored: number;
  readonly duplicates: number;
  readonly receipts: number;
  /** Control messages applied (a contact's new delivery token). */
  readonly control: number;
  readonly rejected: number;
  /** Kept locally for a retry (acked all the same). */
  readonly retry: number;
}

/** Adds a batch's outcomes to `report`. */
export function tally(report: Mutable<ReceiveReport>, outcomes: readonly EnvelopeOutcome[]): void {
  for (const o of outcomes) {
    if (o.outcome === 'stored' || o.outcome === 'group') report.stored++;
    else if (o.outcome === 'duplicate') report.duplicates++;
    else if (o.outcome === 'receipt') report.receipts++;
    else if (o.outcome === 'control') report.control++;
    else if (o.outcome === 'rejected') report.rejected++;
    else report.retry++;
  }
}

type Mutable<T> = { -readonly [K in keyof T]: T[K] };
