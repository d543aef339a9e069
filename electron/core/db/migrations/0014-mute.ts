import type { Migration } from '../migration.ts';

/**
 * Muting (shared/mute.ts): a conversation or group may carry the end time of
 * a mute, in epoch milliseconds (MUTE_FOREVER for "until unmuted"). NULL is
 * not muted; an end in the past is treated as NULL by every reader, so an
 * expired mute needs no timer to lift it.
 */
export const migration0014: Migration = {
  version: 14,
  name: 'mute',
  up(db) {
    db.exec(`
      ALTER TABLE conversations ADD COLUMN muted_until INTEGER CHECK (muted_until IS NULL OR muted_until > 0);
      ALTER TABLE groups ADD COLUMN muted_until INTEGER CHECK (muted_until IS NULL OR muted_until > 0);
    `);
  },
};
