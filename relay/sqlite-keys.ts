import type Database from '@signalapp/sqlcipher';
import type { AccountId } from '../shared/protocol/account-id.ts';
import type { PublishedKeys } from '../shared/protocol/keys.ts';
import {
  bundleFromRows,
  countsRowSchema,
  deviceRegistrationRowSchema,
  keyIdRowSchema,
  replaceableKeyIds,
} from './sqlite-rows.ts';
import type { DeviceRegistration, KeyIds, OneTimeKeyCounts, TakenBundle } from './storage.ts';

type OneTimeTable = 'one_time_pre_keys' | 'one_time_kyber_pre_keys';

/** taken_one_time_keys.kind of each one-time key table. */
const KIND: Readonly<Record<OneTimeTable, number>> = {
  one_time_pre_keys: 1,
  one_time_kyber_pre_keys: 2,
};

/** Every table that holds rows of an account's keys (a move empties them all). */
const ACCOUNT_KEY_TABLES = [
  'device_keys',
  'one_time_pre_keys',
  'one_time_kyber_pre_keys',
  'taken_one_time_keys',
] as const;

/**
 * The key-directory half of the SQLite storage. Synchronous steps; the caller
 * (SqliteRelayStorage) wraps each in a transaction.
 */
export class SqliteKeyDirectory {
  constructor(private readonly db: Database) {}

  /**
   * Replaces the device's signed prekeys and adds one-time keys whose ids are
   * neither stored nor handed out (taken_one_time_keys); refuses (storing
   * nothing) if a kind would exceed `maxStored`. Runs inside the caller's
   * transaction, so the count and the inserts agree.
   */
  publish(published: PublishedKeys, now: number, maxStored: number): 'ok' | 'too-many-keys' {
    const keys: PublishedKeys = {
      ...published,
      oneTimePreKeys: this.notTaken(published, 'one_time_pre_keys', published.oneTimePreKeys),
      oneTimeKyberPreKeys: this.notTaken(
        published,
        'one_time_kyber_pre_keys',
        published.oneTimeKyberPreKeys,
      ),
    };
    const fresh = (table: OneTimeTable, ids: readonly number[]) =>
      ids.length === 0
        ? 0
        : countsRowSchema.parse(
            this.db
              .prepare(
                `SELECT count(*) AS n FROM json_each(?) WHERE value NOT IN
                   (SELECT key_id FROM ${table} WHERE account_id = ? AND device_id = ?)`,
              )
              .get([JSON.stringify([...new Set(ids)]), keys.accountId, keys.deviceId]),
          ).n;
    const held = this.counts(keys.accountId, keys.deviceId);
    const ec = fresh(
      'one_time_pre_keys',
      keys.oneTimePreKeys.map((k) => k.id),
    );
    const kyber = fresh(
      'one_time_kyber_pre_keys',
      keys.oneTimeKyberPreKeys.map((k) => k.id),
    );
    if (held.preKeys + ec > maxStored || held.kyberPreKeys + kyber > maxStored)
      return 'too-many-keys';
    this.db
      .prepare(
        `INSERT INTO device_keys (account_id, device_id, registration_id, identity_key,
           signed_pre_key_id, signed_pre_key, signed_pre_key_signature,
           last_resort_kyber_id, last_resort_kyber_key, last_resort_kyber_signature, updated_at)
         VALUES ($accountId, $deviceId, $registrationId, $identityKey, $spkId, $spk, $spkSig, $lrId, $lr, $lrSig, $now)
         ON CONFLICT (account_id, device_id) DO UPDATE SET
           registration_id = excluded.registration_id, identity_key = excluded.identity_key,
           signed_pre_key_id = excluded.signed_pre_key_id, signed_pre_key = excluded.signed_pre_key,
           signed_pre_key_signature = excluded.signed_pre_key_signature,
           last_resort_kyber_id = excluded.last_resort_kyber_id,
           last_resort_kyber_key = excluded.last_resort_kyber_key,
           last_resort_kyber_signature = excluded.last_resort_kyber_signature, updated_at = excluded.updated_at`,
      )
      .run({
        accountId: keys.accountId,
        deviceId: keys.deviceId,
        registrationId: keys.registrationId,
        identityKey: keys.identityKey,
        spkId: keys.signedPreKey.id,
        spk: keys.signedPreKey.publicKey,
        spkSig: keys.signedPreKey.signature,
        lrId: keys.lastResortKyberPreKey.id,
        lr: keys.lastResortKyberPreKey.publicKey,
        lrSig: keys.lastResortKyberPreKey.signature,
        now,
      });
    // DO NOTHING on a known id: the stored key stays (the spec's "ignored").
    const addPreKey = this.db.prepare(
      `INSERT INTO one_time_pre_keys (account_id, device_id, key_id, public_key)
       VALUES (?, ?, ?, ?) ON CONFLICT DO NOTHING`,
    );
    for (const key of keys.oneTimePreKeys) {
      addPreKey.run([keys.accountId, keys.deviceId, key.id, key.publicKey]);
    }
    const addKyber = this.db.prepare(
      `INSERT INTO one_time_kyber_pre_keys (account_id, device_id, key_id, public_key, signature)
       VALUES (?, ?, ?, ?, ?) ON CONFLICT DO NOTHING`,
    );
    for (const key of keys.oneTimeKyberPreKeys) {
      addKyber.run([keys.accountId, keys.deviceId, key.id, key.publicKey, key.signature]);
    }
    return 'ok';
  }

  /** The ids of the keys held for a device (publication order for one-time keys). */
  ids(accountId: AccountId, deviceId: number): KeyIds {
    const list = (table: OneTimeTable) =>
      this.db
        .prepare(`SELECT key_id FROM ${table} WHERE account_id = ? AND device_id = ? ORDER BY seq`)
        .all([accountId, deviceId])
        .map((row) => keyIdRowSchema.parse(row).key_id);
    const device = this.db
      .prepare('SELECT * FROM device_keys WHERE account_id = ? AND device_id = ?')
      .get([accountId, deviceId]);
    const replaceable = device === undefined ? undefined : replaceableKeyIds(device);
    return {
      preKeyIds: list('one_time_pre_keys'),
      kyberPreKeyIds: list('one_time_kyber_pre_keys'),
      signedPreKeyId: replaceable?.signed ?? null,
      lastResortKyberPreKeyId: replaceable?.lastResort ?? null,
    };
  }

  /** The published devices of these accounts and their registration ids. */
  devicesOf(accountIds: readonly AccountId[]): DeviceRegistration[] {
    return this.db
      .prepare(
        `SELECT account_id, device_id, registration_id FROM device_keys
         WHERE account_id IN (SELECT value FROM json_each(?))`,
      )
      .all([JSON.stringify(accountIds)])
      .map((row) => {
        const parsed = deviceRegistrationRowSchema.parse(row);
        return {
          accountId: parsed.account_id,
          deviceId: parsed.device_id,
          registrationId: parsed.registration_id,
        };
      });
  }

  /** Deletes every key of every device of an account (it moved), and the ids it handed out. */
  forget(accountId: AccountId): void {
    for (const table of ACCOUNT_KEY_TABLES)
      this.db.prepare(`DELETE FROM ${table} WHERE account_id = ?`).run([accountId]);
  }

  /**
   * A bundle, consuming the oldest one-time key of each kind and remembering
   * its id as taken at `now`; undefined if the device never published.
   */
  take(accountId: AccountId, deviceId: number, now: number): TakenBundle | undefined {
    const device = this.db
      .prepare('SELECT * FROM device_keys WHERE account_id = ? AND device_id = ?')
      .get([accountId, deviceId]);
    if (device === undefined) return undefined;
    const preKey = this.takeOldest('one_time_pre_keys', accountId, deviceId, now);
    const kyberPreKey = this.takeOldest('one_time_kyber_pre_keys', accountId, deviceId, now);
    return {
      bundle: bundleFromRows(device, preKey, kyberPreKey),
      remaining: this.counts(accountId, deviceId),
    };
  }

  /** One-time keys left, or undefined if the device never published. */
  remaining(accountId: AccountId, deviceId: number): OneTimeKeyCounts | undefined {
    const published = this.db
      .prepare('SELECT 1 FROM device_keys WHERE account_id = ? AND device_id = ?')
      .get([accountId, deviceId]);
    return published === undefined ? undefined : this.counts(accountId, deviceId);
  }

  private counts(accountId: AccountId, deviceId: number): OneTimeKeyCounts {
    const count = (table: OneTimeTable) =>
      countsRowSchema.parse(
        this.db
          .prepare(`SELECT count(*) AS n FROM ${table} WHERE account_id = ? AND device_id = ?`)
          .get([accountId, deviceId]),
      ).n;
    return { preKeys: count('one_time_pre_keys'), kyberPreKeys: count('one_time_kyber_pre_keys') };
  }

  /** Forgets at most `limit` handed-out ids taken before `cutoff`; returns how many. */
  forgetTaken(cutoff: number, limit: number): number {
    return this.db
      .prepare(
        `DELETE FROM taken_one_time_keys WHERE rowid IN
           (SELECT rowid FROM taken_one_time_keys WHERE taken_at < ? LIMIT ?)`,
      )
      .run([cutoff, limit]).changes;
  }

  /** The published one-time keys of a kind whose ids this relay has not handed out. */
  private notTaken<K extends { readonly id: number }>(
    keys: PublishedKeys,
    table: OneTimeTable,
    list: readonly K[],
  ): K[] {
    if (list.length === 0) return [];
    const taken = new Set(
      this.db
        .prepare(
          `SELECT key_id FROM taken_one_time_keys WHERE account_id = ? AND device_id = ? AND kind = ?
             AND key_id IN (SELECT value FROM json_each(?))`,
        )
        .all([keys.accountId, keys.deviceId, KIND[table], JSON.stringify(list.map((k) => k.id))])
        .map((row) => keyIdRowSchema.parse(row).key_id),
    );
    return list.filter((key) => !taken.has(key.id));
  }

  /**
   * Deletes and returns the device's oldest one-time key of a kind
   * (publication order, not id order), remembering its id as taken.
   */
  private takeOldest(
    table: OneTimeTable,
    accountId: AccountId,
    deviceId: number,
    now: number,
  ): unknown {
    const row = this.db
      .prepare(
        `DELETE FROM ${table} WHERE seq =
           (SELECT min(seq) FROM ${table} WHERE account_id = ? AND device_id = ?) RETURNING *`,
      )
      .get([accountId, deviceId]);
    if (row === undefined) return undefined;
    this.db
      .prepare(
        `INSERT INTO taken_one_time_keys (account_id, device_id, kind, key_id, taken_at)
         VALUES (?, ?, ?, ?, ?) ON CONFLICT DO UPDATE SET taken_at = excluded.taken_at`,
      )
      .run([accountId, deviceId, KIND[table], keyIdRowSchema.parse(row).key_id, now]);
    return row;
  }
}
