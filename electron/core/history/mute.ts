import { activeMute, muteEnd, type MuteDuration } from '../../../shared/mute.ts';
import type { Sql } from '../db/sqlite.ts';
import { SottoError } from '../errors.ts';

// Mutes of 1:1 conversations and groups (migration 0014). The end time is
// stored, never a timer: a reader compares it with the clock, so an expired
// mute reads as none the moment it ends (a message arriving after it notifies).

/** What is muted: a 1:1 conversation by id, or a group by its row id (`StoredGroup.ref`). */
export type MuteTarget =
  | { readonly kind: 'conversation'; readonly id: number }
  | { readonly kind: 'group'; readonly ref: number };

// Fixed table names, never user input.
function tableOf(target: MuteTarget): { table: string; id: number } {
  return target.kind === 'conversation'
    ? { table: 'conversations', id: target.id }
    : { table: 'groups', id: target.ref };
}

/**
 * Mutes `target` for `duration` from `now` (null: until unmuted) and returns
 * the end time. UNKNOWN_CONTACT / UNKNOWN_GROUP if there is no such row.
 */
export function setMute(db: Sql, target: MuteTarget, duration: MuteDuration, now: number): number {
  const until = muteEnd(duration, now);
  write(db, target, until);
  return until;
}

/** Lifts a mute (nothing to do if there is none). UNKNOWN_CONTACT / UNKNOWN_GROUP as setMute. */
export function clearMute(db: Sql, target: MuteTarget): void {
  write(db, target, null);
}

function write(db: Sql, target: MuteTarget, until: number | null): void {
  const { table, id } = tableOf(target);
  const changed = db.prepare(`UPDATE ${table} SET muted_until = ? WHERE id = ?`).run([until, id]);
  if (changed.changes === 0)
    throw new SottoError(target.kind === 'conversation' ? 'UNKNOWN_CONTACT' : 'UNKNOWN_GROUP');
}

/** When `target`'s mute ends, or null if it is not muted at `now` (an expired one included). */
export function mutedUntil(db: Sql, target: MuteTarget, now: number): number | null {
  const { table, id } = tableOf(target);
  const stored = db
    .prepare(`SELECT muted_until FROM ${table} WHERE id = ?`, { pluck: true })
    .get<number | null>([id]);
  return activeMute(stored ?? null, now);
}

/** A SQL condition on a table alias: the row is not muted at the time bound to `?`. */
export function notMutedAt(alias: string): string {
  return `(${alias}.muted_until IS NULL OR ${alias}.muted_until <= ?)`;
}
