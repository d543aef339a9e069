import type pg from 'pg';
import type { AccountId } from '../../shared/protocol/account-id.ts';
import type { PublishedKeys } from '../../shared/protocol/keys.ts';
import { bundleFromRows, deviceRegistrationRowSchema, replaceableKeyIds } from '../sqlite-rows.ts';
import type {
  DeviceRegistration,
  KeyIds,
  OneTimeKeyCounts,
  PublishResult,
  TakenBundle,
} from '../storage.ts';
import { countRowSchema, keyIdRowSchema, movedRowSchema } from './rows.ts';

/** one_time_key.kind: an EC one-time prekey. */
const EC = 1;
/** one_time_kyber_key.kind: a signed Kyber one-time prekey. */
const KYBER = 2;

type Query = Pick<pg.ClientBase, 'query'>;

/**
 * The key directory on PostgreSQL. Each function runs on the client it is
 * given; the caller (PostgresRelayStorage) owns the transaction.
 */
export const postgresKeys = {
  /**
   * Replaces the device's signed prekeys and adds one-time keys whose ids are
   * neither stored nor handed out (taken_one_time_key); 'too-many-keys' if a kind would exceed `maxStored` (the caller
   * then rolls back), 'moved' if the account moved (nothing stored). The
   * account row is read FOR SHARE first: a move (markMoved updates that row,
   * then deletes the keys) that commits while this publish runs would
   * otherwise leave the keys it stored behind it; with the lock, the move
   * waits for this publish and deletes its keys, or this publish waits for the
   * move and sees it. The upsert comes next: its row lock serializes two
   * publishes of one device, so the count and the inserts agree, and waits
   * for the takes in flight (they hold the row FOR SHARE), so the inserts'
   * snapshot sees every id they took: a take that deleted a re-sent id but
   * had not committed would otherwise let the insert store it again.
   */
  async publish(
    db: Query,
    keys: PublishedKeys,
    now: number,
    maxStored: number,
  ): Promise<PublishResult> {
    const owner = await db.query('SELECT moved_at FROM account WHERE account_id = $1 FOR SHARE', [
      keys.accountId,
    ]);
    if (owner.rows[0] !== undefined && movedRowSchema.parse(owner.rows[0]).moved_at !== null)
      return 'moved';
    await db.query(
      `INSERT INTO device_keys VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)
       ON CONFLICT (account_id, device_id) DO UPDATE SET
         registration_id = excluded.registration_id, identity_key = excluded.identity_key,
         signed_pre_key_id = excluded.signed_pre_key_id, signed_pre_key = excluded.signed_pre_key,
         signed_pre_key_signature = excluded.signed_pre_key_signature,
         last_resort_kyber_id = excluded.last_resort_kyber_id,
         last_resort_kyber_key = excluded.last_resort_kyber_key,
         last_resort_kyber_signature = excluded.last_resort_kyber_signature,
         updated_at = excluded.updated_at`,
      [
        keys.accountId,
        keys.deviceId,
        keys.registrationId,
        keys.identityKey,
        keys.signedPreKey.id,
        keys.signedPreKey.publicKey,
        keys.signedPreKey.signature,
        keys.lastResortKyberPreKey.id,
        keys.lastResortKyberPreKey.publicKey,
        keys.lastResortKyberPreKey.signature,
        now,
      ],
    );
    // DO NOTHING on a known id: the stored key stays (the spec's "ignored"); a taken id is skipped.
    const add = async (
      kind: number,
      list: readonly { id: number; publicKey: string; signature?: string }[],
    ) => {
      if (list.length === 0) return 0;
      const { rowCount } = await db.query(
        `INSERT INTO one_time_key (account_id, device_id, kind, key_id, public_key, signature)
         SELECT $1, $2, $3, k, p, s FROM unnest($4::integer[], $5::text[], $6::text[]) WITH ORDINALITY AS t(k, p, s, n)
          WHERE NOT EXISTS (SELECT 1 FROM taken_one_time_key x
                             WHERE x.account_id = $1 AND x.device_id = $2 AND x.kind = $3 AND x.key_id = t.k)
         ORDER BY n ON CONFLICT DO NOTHING`,
        [
          keys.accountId,
          keys.deviceId,
          kind,
          list.map((k) => k.id),
          list.map((k) => k.publicKey),
          list.map((k) => k.signature ?? null),
        ],
      );
      return rowCount ?? 0;
    };
    await add(EC, keys.oneTimePreKeys);
    await add(KYBER, keys.oneTimeKyberPreKeys);
    const held = await counts(db, keys.accountId, keys.deviceId);
    return held.preKeys > maxStored || held.kyberPreKeys > maxStored ? 'too-many-keys' : 'ok';
  },

  /**
   * A bundle, consuming the oldest one-time key of each kind and remembering
   * its id as taken at `now`. A key is handed out only by the DELETE that
   * removed it, so never twice; SKIP LOCKED lets concurrent fetches take the
   * next key instead of queueing on the first. The device row is read FOR
   * SHARE: takes do not wait on each other, a publish of the device waits
   * for them (see publish).
   */
  async take(
    db: Query,
    accountId: AccountId,
    deviceId: number,
    now: number,
  ): Promise<TakenBundle | undefined> {
    const device = await db.query(
      'SELECT * FROM device_keys WHERE account_id = $1 AND device_id = $2 FOR SHARE',
      [accountId, deviceId],
    );
    if (device.rows[0] === undefined) return undefined;
    const claim = async (kind: number): Promise<unknown> =>
      (
        await db.query(
          `WITH claimed AS (
             DELETE FROM one_time_key WHERE seq = (
               SELECT seq FROM one_time_key WHERE account_id = $1 AND device_id = $2 AND kind = $3
                ORDER BY seq LIMIT 1 FOR UPDATE SKIP LOCKED)
             RETURNING key_id, public_key, signature),
           remembered AS (
             INSERT INTO taken_one_time_key SELECT $1, $2, $3, key_id, $4 FROM claimed
             ON CONFLICT (account_id, device_id, kind, key_id) DO UPDATE SET taken_at = excluded.taken_at)
           SELECT * FROM claimed`,
          [accountId, deviceId, kind, now],
        )
      ).rows[0];
    const preKey = await claim(EC);
    const kyberPreKey = await claim(KYBER);
    return {
      bundle: bundleFromRows(device.rows[0], preKey, kyberPreKey),
      remaining: await counts(db, accountId, deviceId),
    };
  },

  /** One-time keys left, or undefined if the device never published. */
  async remaining(
    db: Query,
    accountId: AccountId,
    deviceId: number,
  ): Promise<OneTimeKeyCounts | undefined> {
    const published = await db.query(
      'SELECT 1 FROM device_keys WHERE account_id = $1 AND device_id = $2',
      [accountId, deviceId],
    );
    return published.rowCount === 0 ? undefined : await counts(db, accountId, deviceId);
  },

  /** The published devices of these accounts and their registration ids (one read for a group send). */
  async devicesOf(db: Query, accountIds: readonly AccountId[]): Promise<DeviceRegistration[]> {
    const { rows } = await db.query(
      'SELECT account_id, device_id, registration_id FROM device_keys WHERE account_id = ANY($1::uuid[])',
      [accountIds],
    );
    return rows.map((row) => {
      const parsed = deviceRegistrationRowSchema.parse(row);
      return {
        accountId: parsed.account_id,
        deviceId: parsed.device_id,
        registrationId: parsed.registration_id,
      };
    });
  },

  /** The ids of the keys held for a device (publication order for one-time keys). */
  async ids(db: Query, accountId: AccountId, deviceId: number): Promise<KeyIds> {
    const list = async (kind: number) =>
      (
        await db.query(
          'SELECT key_id FROM one_time_key WHERE account_id = $1 AND device_id = $2 AND kind = $3 ORDER BY seq',
          [accountId, deviceId, kind],
        )
      ).rows.map((row) => keyIdRowSchema.parse(row).key_id);
    const device = await db.query(
      'SELECT * FROM device_keys WHERE account_id = $1 AND device_id = $2',
      [accountId, deviceId],
    );
    const replaceable =
      device.rows[0] === undefined ? undefined : replaceableKeyIds(device.rows[0]);
    return {
      preKeyIds: await list(EC),
      kyberPreKeyIds: await list(KYBER),
      signedPreKeyId: replaceable?.signed ?? null,
      lastResortKyberPreKeyId: replaceable?.lastResort ?? null,
    };
  },

  /** Deletes every key of every device of an account (it moved), and the ids it handed out. */
  async forget(db: Query, accountId: AccountId): Promise<void> {
    await db.query('DELETE FROM device_keys WHERE account_id = $1', [accountId]);
    await db.query('DELETE FROM one_time_key WHERE account_id = $1', [accountId]);
    await db.query('DELETE FROM taken_one_time_key WHERE account_id = $1', [accountId]);
  },

  /** Forgets at most `limit` handed-out ids taken before `cutoff` (rows another node sweeps are skipped). */
  async forgetTaken(db: Query, cutoff: number, limit: number): Promise<number> {
    const { rowCount } = await db.query(
      `DELETE FROM taken_one_time_key WHERE (account_id, device_id, kind, key_id) IN (
         SELECT account_id, device_id, kind, key_id FROM taken_one_time_key
          WHERE taken_at < $1 LIMIT $2 FOR UPDATE SKIP LOCKED)`,
      [cutoff, limit],
    );
    return rowCount ?? 0;
  },
};

async function counts(
  db: Query,
  accountId: AccountId,
  deviceId: number,
): Promise<OneTimeKeyCounts> {
  const count = async (kind: number) =>
    countRowSchema.parse(
      (
        await db.query(
          'SELECT count(*) AS n FROM one_time_key WHERE account_id = $1 AND device_id = $2 AND kind = $3',
          [accountId, deviceId, kind],
        )
      ).rows[0],
    ).n;
  return { preKeys: await count(EC), kyberPreKeys: await count(KYBER) };
}
