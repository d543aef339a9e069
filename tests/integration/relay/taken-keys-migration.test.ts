import { join } from 'node:path';
import Database from '@signalapp/sqlcipher';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SCHEMA_VERSION } from '../../../relay/postgres/schema.ts';
import { PostgresRelayStorage } from '../../../relay/postgres/storage.ts';
import { SqliteRelayStorage } from '../../../relay/sqlite-storage.ts';
import type { RelayStorage } from '../../../relay/storage.ts';
import { startTestPostgres, type TestPostgres } from '../../support/postgres.ts';
import { newDevice, relayDataDir } from '../../support/relay-client.ts';
import { publishedKeysFor } from './fixtures.ts';

// The migrations that add the handed-out key ids (SQLite schema 4,
// PostgreSQL migration 9) on a database made before them: the keys it holds
// are still handed out, each once, and a re-publish after that cannot bring
// one back.

/** Publishes on a fresh store, rolls the schema back to before the migration, and reopens it. */
async function migratedWithKeys(
  open: () => Promise<RelayStorage>,
  rollBack: () => Promise<void>,
): Promise<{ storage: RelayStorage; device: ReturnType<typeof newDevice> }> {
  const device = newDevice();
  const before = await open();
  expect(await before.publishKeys(publishedKeysFor(device, 2), 1, 10)).toBe('ok');
  expect((await before.takeBundle(device.accountId, 1, 2))?.bundle.preKey?.id).toBe(1);
  await before.close();
  await rollBack();
  return { storage: await open(), device };
}

/** What an old database with keys must still do once migrated. */
async function keepsHandingOut(storage: RelayStorage, device: ReturnType<typeof newDevice>) {
  try {
    expect(await storage.oneTimeKeyCounts(device.accountId, 1)).toEqual({
      preKeys: 1,
      kyberPreKeys: 1,
    });
    expect((await storage.takeBundle(device.accountId, 1, 3))?.bundle.preKey?.id).toBe(2);
    // Key 2 was taken after the migration: the relay remembers it. Key 1 was
    // taken before, by a relay that kept no record, so it is new again (docs).
    expect(await storage.publishKeys(publishedKeysFor(device, 2), 4, 10)).toBe('ok');
    expect(await storage.keyIds(device.accountId, 1)).toMatchObject({
      preKeyIds: [1],
      kyberPreKeyIds: [1],
    });
  } finally {
    await storage.close();
  }
}

describe('relay.db taken-keys migration (SQLite schema 4)', () => {
  it('an old database with keys migrates and keeps handing them out, each once', async () => {
    const dataDir = relayDataDir();
    const { storage, device } = await migratedWithKeys(
      () => Promise.resolve(SqliteRelayStorage.open(dataDir)),
      () => {
        const old = new Database(join(dataDir, 'relay.db'));
        old.exec('DROP TABLE taken_one_time_keys; PRAGMA user_version = 3;');
        old.close();
        return Promise.resolve();
      },
    );
    await keepsHandingOut(storage, device);
    const reopened = new Database(join(dataDir, 'relay.db'));
    expect(reopened.pragma('user_version', { simple: true })).toBe(4);
    reopened.close();
  });
});

describe('PostgreSQL taken-keys migration (9)', () => {
  let postgres: TestPostgres | undefined;
  beforeAll(async () => {
    postgres = await startTestPostgres();
  });
  afterAll(async () => {
    await postgres?.stop();
  });

  it('an old database with keys migrates and keeps handing them out, each once', async () => {
    if (postgres === undefined) throw new Error('PostgreSQL starts in beforeAll');
    const url = await postgres.createDatabase();
    const admin = new pg.Client({ connectionString: url });
    await admin.connect();
    try {
      const { storage, device } = await migratedWithKeys(
        () => PostgresRelayStorage.open(url),
        async () => {
          await admin.query('DROP TABLE taken_one_time_key');
          await admin.query('UPDATE relay_schema SET version = 8');
        },
      );
      await keepsHandingOut(storage, device);
      const { rows } = await admin.query<{ version: number }>('SELECT version FROM relay_schema');
      expect(rows).toEqual([{ version: SCHEMA_VERSION }]);
    } finally {
      await admin.end();
    }
  });
});
