import type { Migration } from '../migration.ts';

/**
 * Which one-time prekeys have been handed to a relay. A one-time key must be
 * published exactly once: published twice, two peers could consume it and the
 * second session start would fail.
 */
export const migration0004: Migration = {
  version: 4,
  name: 'key-publication',
  up(db) {
    db.exec(`
      ALTER TABLE pre_keys ADD COLUMN published INTEGER NOT NULL DEFAULT 0 CHECK (published IN (0, 1));
      ALTER TABLE kyber_pre_keys ADD COLUMN published INTEGER NOT NULL DEFAULT 0 CHECK (published IN (0, 1));
    `);
  },
};
