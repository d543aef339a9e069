import type { Sql } from '../db/sqlite.ts';
import type { AccountRecord, DataRecord, KeyRecord } from './format/records.ts';
import {
  type KeyCounterRecord,
  type KeyUseRecord,
  type SettingRecord,
  UNCARRIED_SETTINGS,
} from './format/account-records.ts';

// The account's own records of a backup: identity, keys, key counters and
// settings. A full restore writes them into the fresh schema; a merge keeps
// the live profile's (only settings it lacks are added).

/** Records this file restores. */
export type AccountStateRecord = Extract<
  DataRecord,
  { type: 'account' | 'key' | 'keyUse' | 'keyCounter' | 'setting' }
>;

/** Writes one account-state record; `full` says whether this is a full restore. */
export function restoreAccountState(db: Sql, record: AccountStateRecord, full: boolean): void {
  switch (record.type) {
    case 'account':
      if (full) {
        restoreAccount(db, record);
        restoreAccountRoute(db, record);
      }
      return;
    case 'key':
      if (full) restoreKey(db, record);
      return;
    case 'keyUse':
      if (full) restoreKeyUse(db, record);
      return;
    case 'keyCounter':
      if (full) restoreKeyCounter(db, record);
      return;
    case 'setting':
      restoreSetting(db, record);
      return;
  }
}

function restoreAccount(db: Sql, record: AccountRecord): void {
  db.prepare(
    `INSERT INTO account (singleton, account_id, display_name, device_id, registration_id, identity_key_pair, created_at)
     VALUES (1, ?, ?, ?, ?, ?, ?)`,
  ).run([
    record.accountId,
    record.displayName,
    record.deviceId,
    record.registrationId,
    recordBytes(record.identityKeyPair),
    record.createdAt,
  ]);
}

/**
 * This account's delivery token and pinned relay id. A full restore takes
 * the backup's (contacts hold that token) over the one the fresh schema
 * made, and leaves the token unregistered (no `delivery.tokenRegisteredWith`)
 * so the first sync registers it again. A merge keeps the live profile's:
 * its relay has registered it, and contacts may hold only a rotation newer
 * than the backup. A version 1 backup has neither: the fresh token stays.
 */
function restoreAccountRoute(db: Sql, record: AccountRecord): void {
  const set = db.prepare(
    'INSERT INTO settings (key, value) VALUES (?, ?) ON CONFLICT (key) DO UPDATE SET value = excluded.value',
  );
  if (record.deliveryToken !== null)
    set.run(['delivery.token', Buffer.from(record.deliveryToken, 'base64').toString('hex')]);
  if (record.relayId !== null) set.run(['relay.id', record.relayId]);
  db.prepare(
    "DELETE FROM settings WHERE key IN ('delivery.tokenRegisteredWith', 'keys.publishedTo')",
  ).run();
}

function restoreKey(db: Sql, record: KeyRecord): void {
  if (record.kind === 'pre') {
    db.prepare(
      'INSERT INTO pre_keys (id, record, created_at, published, handed_out_at) VALUES (?, ?, ?, ?, ?)',
    ).run([
      record.id,
      recordBytes(record.record),
      record.createdAt,
      record.published ? 1 : 0,
      record.handedOutAt,
    ]);
  } else if (record.kind === 'signed') {
    db.prepare(
      'INSERT INTO signed_pre_keys (id, record, created_at, state, superseded_at) VALUES (?, ?, ?, ?, ?)',
    ).run([
      record.id,
      recordBytes(record.record),
      record.createdAt,
      record.state,
      record.supersededAt,
    ]);
  } else {
    db.prepare(
      `INSERT INTO kyber_pre_keys (id, record, last_resort, created_at, published, state, superseded_at, handed_out_at)
       VALUES (?, ?, ?, ?, ?, ?, ?, ?)`,
    ).run([
      record.id,
      recordBytes(record.record),
      record.lastResort ? 1 : 0,
      record.createdAt,
      record.published ? 1 : 0,
      record.state,
      record.supersededAt,
      record.handedOutAt,
    ]);
  }
}

function restoreKeyUse(db: Sql, record: KeyUseRecord): void {
  db.prepare(
    'INSERT OR IGNORE INTO kyber_pre_key_uses (kyber_pre_key_id, signed_pre_key_id, base_key) VALUES (?, ?, ?)',
  ).run([record.kyberId, record.signedId, recordBytes(record.baseKey)]);
}

function restoreKeyCounter(db: Sql, record: KeyCounterRecord): void {
  db.prepare('INSERT INTO key_counters (kind, next_id) VALUES (?, ?)').run([
    record.kind,
    record.nextId,
  ]);
}

function restoreSetting(db: Sql, record: SettingRecord): void {
  // Version 2 carries these as typed members or not at all (records.ts); a version 1 file's copies are old state.
  if (UNCARRIED_SETTINGS.includes(record.key)) return;
  db.prepare('INSERT INTO settings (key, value) VALUES (?, ?) ON CONFLICT (key) DO NOTHING').run([
    record.key,
    record.value,
  ]);
}

/** A record's base64 member as bytes for a BLOB column. */
export function recordBytes(base64: string): Uint8Array<ArrayBuffer> {
  return Uint8Array.from(Buffer.from(base64, 'base64'));
}
