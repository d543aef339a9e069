import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { migrate, schemaVersion } from '../../../electron/core/db/migrate.ts';
import { openKeyed, type Sql } from '../../../electron/core/db/sqlite.ts';
import { tempDir } from '../../support/profiles.ts';

const KEY = new Uint8Array(32).fill(8);

/** A database at schema 7 holding an envelope the old code left unacked (`retry`) and a processed one. */
function profileAt7(): Sql {
  const db = openKeyed(join(tempDir(), 'v7.db'), KEY);
  migrate(db, 7);
  db.exec(`
    INSERT INTO processed_envelopes (envelope_id, processed_at) VALUES ('done', 1);
    INSERT INTO failed_envelopes VALUES ('pending', '00000000-0000-4000-8000-000000000001', 'DECRYPT_FAILED', 1, 2, 2);
  `);
  return db;
}

describe('migration 0008 (unprocessed envelopes)', () => {
  it('adds an empty unprocessed_envelopes table and leaves the R3/R5 records as they were', () => {
    const db = profileAt7();
    migrate(db, 8);
    expect(schemaVersion(db)).toBe(8);
    expect(db.prepare('SELECT count(*) FROM unprocessed_envelopes', { pluck: true }).get()).toBe(0);
    expect(
      db.prepare('SELECT envelope_id FROM processed_envelopes', { pluck: true }).all(),
    ).toEqual(['done']);
    // The envelope the old code left on the relay keeps its attempt count: its redelivery is attempt 2.
    expect(db.prepare('SELECT envelope_id, attempts FROM failed_envelopes').all()).toEqual([
      { envelope_id: 'pending', attempts: 1 },
    ]);
  });

  it('is strict: a body must be bytes, an envelope id is kept once', () => {
    const db = profileAt7();
    migrate(db, 8);
    const insert = db.prepare(
      'INSERT INTO unprocessed_envelopes (envelope_id, body, server_time, stored_at) VALUES (?, ?, ?, ?)',
    );
    insert.run(['e1', new Uint8Array([1, 2, 3]), 5, 6]);
    expect(() => insert.run(['e1', new Uint8Array([4]), 5, 6])).toThrow();
    expect(() => insert.run(['e2', 'not bytes', 5, 6])).toThrow();
    expect(() => insert.run(['e3', null, 5, 6])).toThrow();
    expect(db.prepare('SELECT envelope_id, body FROM unprocessed_envelopes').all()).toEqual([
      { envelope_id: 'e1', body: Buffer.from([1, 2, 3]) },
    ]);
  });
});
