import type Database from '@signalapp/sqlcipher';
import type { AccountId } from '../shared/protocol/account-id.ts';
import type { PublishedKeys } from '../shared/protocol/keys.ts';
import { bundleFromRows, countsRowSchema } from './sqlite-rows.ts';
import type { OneTimeKeyCounts, TakenBundle } from './storage.ts';

type OneTimeTable = 'one_time_pre_keys' | 'one_time_kyber_pre_keys';

/**
 * The key-directory half of the SQLite storage. Synchronous steps; the caller
 * (SqliteRelayStorage) wraps each in a transaction.
 */
export class SqliteKeyDirectory {
  constructor(private readonly db: Database) {}

  /** Replaces the device's signed prekeys and adds one-time keys whose ids are not stored. */
  publish(keys: PublishedKeys, now: number): void {
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
  }

  /** A bundle, consuming the oldest one-time key of each kind; undefined if the device never published. */
  take(accountId: AccountId, deviceId: number): TakenBundle | undefined {
    const device = this.db
      .prepare('SELECT * FROM device_keys WHERE account_id = ? AND device_id = ?')
      .get([accountId, deviceId]);
    if (device === undefined) return undefined;
    const preKey = this.takeOldest('one_time_pre_keys', accountId, deviceId);
    const kyberPreKey = this.takeOldest('one_time_kyber_pre_keys', accountId, deviceId);
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

  /** Deletes and returns the device's oldest one-time key of a kind (publication order, not id order). */
  private takeOldest(table: OneTimeTable, accountId: AccountId, deviceId: number): unknown {
    return this.db
      .prepare(
        `DELETE FROM ${table} WHERE seq =
           (SELECT min(seq) FROM ${table} WHERE account_id = ? AND device_id = ?) RETURNING *`,
      )
      .get([accountId, deviceId]);
  }
}
