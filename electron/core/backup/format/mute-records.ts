// Mutes in a backup (docs/backup-format.md#mutes, version 4): a conversation's
// or group's `mutedUntil`, the end time the profile stores (migration 0014).
// Files before version 4 have no such member and restore unmuted; an end
// already past when restoring is stored as not muted (activeMute).
import { z } from 'zod';
import { MUTE_FOREVER } from '../../../../shared/mute.ts';

/** The first inner stream version whose conversation and group records carry `mutedUntil`. */
export const MUTE_VERSION = 4;

/**
 * A mute's end in epoch ms, or null (not muted). Zero, negative, fractional
 * and anything past MUTE_FOREVER ("until unmuted") are BACKUP_TAMPERED: the
 * database refuses them too (0014's CHECK), and Sotto never writes them.
 */
export const mutedUntilSchema = z.number().int().min(1).max(MUTE_FOREVER).nullable();

/** A record of a file before version 4 (its schema omits `mutedUntil`) in version 4's shape: not muted. */
export function unmuted<R extends object>(record: R): R & { mutedUntil: null } {
  return { ...record, mutedUntil: null };
}
