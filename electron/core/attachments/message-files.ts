import type { Sql } from '../db/sqlite.ts';
import type { Profile } from '../profile/profile.ts';
import { selectAttachments } from './attachment-rows.ts';
import { abortTransfer, transferEnded } from './transfers.ts';

// The attachments of messages about to be deleted (history/delete-messages.ts):
// their files, and their transfers stopped before the rows go, so a job
// that is still writing cannot name a file after its row is gone.

/** Longest wait for a cancelled transfer's job to stop (an append in flight settles first). */
export const STOP_TRANSFERS_MS = 30_000;

/** The message rows whose attachments are meant: 1:1 or group. */
export type MessageRows =
  { readonly messageIds: readonly number[] } | { readonly groupMessageIds: readonly number[] };

/** What some messages hold: their attachment ids, stored copies and files in transit. */
export interface MessageFiles {
  readonly attachmentIds: number[];
  readonly local: string[];
  readonly temp: string[];
}

/** The attachment ids and file names of some messages (ids are integers the caller checked). */
export function filesOfMessages(db: Sql, rows: MessageRows): MessageFiles {
  const [column, ids] =
    'messageIds' in rows
      ? ['message_id', rows.messageIds]
      : ['group_message_id', rows.groupMessageIds];
  const found =
    ids.length === 0
      ? []
      : selectAttachments(db, `${column} IN (${ids.map(() => '?').join(',')})`, ids);
  return {
    attachmentIds: found.map((r) => r.id),
    local: found.flatMap((r) => (r.localName ? [r.localName] : [])),
    temp: found.flatMap((r) => (r.tempName ? [r.tempName] : [])),
  };
}

/**
 * Cancels the running transfers of these attachments and waits until each
 * job has ended (its cancel path committed), at most `budgetMs`. A job that
 * outlives the budget only meets rows that are gone: its updates change
 * nothing, and a file it still writes is removed by the next open.
 */
export async function stopTransfers(
  profile: Profile,
  attachmentIds: readonly number[],
  budgetMs = STOP_TRANSFERS_MS,
): Promise<void> {
  const ends = attachmentIds.flatMap((id) =>
    abortTransfer(profile, id) ? [transferEnded(profile, id)] : [],
  );
  if (ends.length === 0) return;
  let timer: NodeJS.Timeout | undefined;
  const budget = new Promise<void>((resolve) => {
    timer = setTimeout(resolve, budgetMs);
    timer.unref();
  });
  await Promise.race([Promise.all(ends), budget]);
  clearTimeout(timer);
}
