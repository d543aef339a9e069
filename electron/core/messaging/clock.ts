import type { Sql } from '../db/sqlite.ts';

/**
 * The sent timestamp for this device's next message: wall-clock time, but
 * strictly after the previous one, so (sender, device, sentAt) identifies a
 * message (R3's application-level dedupe key) even for two sends in one ms.
 */
export function nextSentAt(db: Sql, accountId: string, deviceId: number, now: number): number {
  const last = Number(
    db
      .prepare('SELECT max(sent_at) FROM messages WHERE sender_account = ? AND sender_device = ?', {
        pluck: true,
      })
      .get([accountId, deviceId]) ?? 0,
  );
  return Math.max(now, last + 1);
}
