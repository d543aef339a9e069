import type { Profile } from '../profile/profile.ts';
import { type StatusChange, type StatusRow, toStatusChange } from './status-change.ts';

// What a relay's refusal of an outbox entry means for it (docs/relay-protocol.md#errors).

/** Refusals an entry survives before its message is marked failed. */
export const MAX_SEND_REFUSALS = 5;

/**
 * How long RELAY_ERR_BAD_TOKEN waits before it counts: the recipient probably
 * rotated their token (they blocked someone) and the new one is on its way to
 * us in a `token` message, which makes the entry due again at once.
 */
export const TOKEN_GRACE_MS = 24 * 60 * 60 * 1000;
const TOKEN_RETRY_MIN_MS = 30_000;
const TOKEN_RETRY_MAX_MS = 15 * 60_000;

/** Refusals that say "try again later": never counted against the entry. */
const TRANSIENT = new Set([
  'RELAY_ERR_OVER_BUDGET',
  'RELAY_ERR_STORAGE_FULL',
  'RELAY_ERR_RATE_LIMITED',
  'RELAY_ERR_INTERNAL',
]);

/** A time far enough ahead that a parked entry is never picked up until retried. */
const PARKED = Number.MAX_SAFE_INTEGER;

/**
 * A relay refused these entries with `code` (RELAY_ERR_*). Transient codes
 * change nothing; RELAY_ERR_BAD_TOKEN waits and retries with backoff for up
 * to TOKEN_GRACE_MS after the first such refusal, then counts; every other
 * refusal counts, and after MAX_SEND_REFUSALS the entry is parked and its
 * message marked `failed` until the user retries. Returns the ids of
 * messages that just failed.
 */
export function recordRefusal(
  profile: Profile,
  outboxIds: readonly number[],
  code: string,
  now = Date.now(),
): number[] {
  return refuseEntries(profile, outboxIds, code, now).map((change) => change.messageId);
}

/** recordRefusal, reporting each message that just failed as a status change (send-pass.ts). */
export function refuseEntries(
  profile: Profile,
  outboxIds: readonly number[],
  code: string,
  now = Date.now(),
): StatusChange[] {
  if (TRANSIENT.has(code)) return [];
  return profile.commit(undefined, (db) => {
    const failed: StatusChange[] = [];
    let counted = outboxIds;
    if (code === 'RELAY_ERR_BAD_TOKEN') {
      const first = db.prepare(
        'UPDATE outbox SET token_refused_at = coalesce(token_refused_at, ?) WHERE id = ? RETURNING token_refused_at',
      );
      const wait = db.prepare('UPDATE outbox SET next_attempt_at = ? WHERE id = ?');
      const waiting = outboxIds.filter((id) => {
        const row = first.get<{ token_refused_at: number }>([now, id]);
        if (!row) return true; // gone meanwhile: nothing to count
        const elapsed = now - row.token_refused_at;
        if (elapsed >= TOKEN_GRACE_MS) return false;
        wait.run([
          now + Math.min(TOKEN_RETRY_MAX_MS, Math.max(TOKEN_RETRY_MIN_MS, elapsed / 2)),
          id,
        ]);
        return true;
      });
      counted = outboxIds.filter((id) => !waiting.includes(id));
    }
    const bump = db.prepare(
      'UPDATE outbox SET attempts = attempts + 1 WHERE id = ? RETURNING attempts, message_id',
    );
    const park = db.prepare(`UPDATE outbox SET next_attempt_at = ${PARKED} WHERE id = ?`);
    const fail = db.prepare(
      "UPDATE messages SET status = 'failed' WHERE id = ? RETURNING id, conversation_id, status",
    );
    for (const id of counted) {
      const row = bump.get<{ attempts: number; message_id: number | null }>([id]);
      if (!row || row.attempts < MAX_SEND_REFUSALS) continue;
      park.run([id]);
      if (row.message_id === null) continue;
      const changed = fail.get<StatusRow>([row.message_id]);
      if (changed) failed.push(toStatusChange(changed));
    }
    return failed;
  });
}
