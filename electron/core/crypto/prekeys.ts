import {
  type IdentityKeyPair,
  KEMKeyPair,
  KyberPreKeyRecord,
  PreKeyRecord,
  PrivateKey,
  SignedPreKeyRecord,
} from '@signalapp/libsignal-client';
import type { PublishedKeys } from '../../../shared/protocol/keys.ts';
import { toBase64 } from '../../../shared/protocol/encoding.ts';
import type { Sql } from '../db/sqlite.ts';
import type { LocalAccount } from './protocol-state.ts';

/** How many one-time EC and Kyber prekeys are generated per batch. */
export const PREKEY_BATCH = 100;

const MAX_KEY_ID = 0xffffff;

type KeyKind = 'pre_key' | 'signed_pre_key' | 'kyber_pre_key';

/** Allocates `count` consecutive prekey ids of one kind (24-bit, wrapping, never 0). */
function allocateIds(db: Sql, kind: KeyKind, count: number): number[] {
  const next = Number(
    db.prepare('SELECT next_id FROM key_counters WHERE kind = ?', { pluck: true }).get([kind]) ?? 1,
  );
  const ids = Array.from({ length: count }, (_, i) => ((next - 1 + i) % MAX_KEY_ID) + 1);
  db.prepare(
    'INSERT INTO key_counters (kind, next_id) VALUES (?, ?) ON CONFLICT (kind) DO UPDATE SET next_id = excluded.next_id',
  ).run([kind, ((next - 1 + count) % MAX_KEY_ID) + 1]);
  return ids;
}

/**
 * Where a signed or last-resort key is in its life (key-maintenance.ts):
 * `pending` (made, not yet accepted by the relay), `current`, `previous`
 * (replaced; kept for a grace period so in-flight PreKey messages decrypt).
 */
export type KeyState = 'pending' | 'current' | 'previous';

/** Creates and stores a new signed EC prekey. Call inside a transaction. */
export function addSignedPreKey(
  db: Sql,
  identity: IdentityKeyPair,
  now: number,
  state: KeyState = 'current',
): SignedPreKeyRecord {
  const [id] = allocateIds(db, 'signed_pre_key', 1) as [number];
  const key = PrivateKey.generate();
  const record = SignedPreKeyRecord.new(
    id,
    now,
    key.getPublicKey(),
    key,
    identity.privateKey.sign(key.getPublicKey().serialize()),
  );
  db.prepare('INSERT INTO signed_pre_keys (id, record, created_at, state) VALUES (?, ?, ?, ?)').run(
    [id, record.serialize(), now, state],
  );
  return record;
}

/** Creates and stores Kyber prekeys (one-time, or one last-resort). Call inside a transaction. */
export function addKyberPreKeys(
  db: Sql,
  identity: IdentityKeyPair,
  count: number,
  lastResort: boolean,
  now: number,
  state: KeyState = 'current',
): KyberPreKeyRecord[] {
  const insert = db.prepare(
    'INSERT INTO kyber_pre_keys (id, record, last_resort, created_at, state) VALUES (?, ?, ?, ?, ?)',
  );
  return allocateIds(db, 'kyber_pre_key', count).map((id) => {
    const pair = KEMKeyPair.generate();
    const record = KyberPreKeyRecord.new(
      id,
      now,
      pair,
      identity.privateKey.sign(pair.getPublicKey().serialize()),
    );
    insert.run([id, record.serialize(), lastResort ? 1 : 0, now, state]);
    return record;
  });
}

/** Creates and stores one-time EC prekeys. Call inside a transaction. */
export function addPreKeys(db: Sql, count: number, now: number): PreKeyRecord[] {
  const insert = db.prepare('INSERT INTO pre_keys (id, record, created_at) VALUES (?, ?, ?)');
  return allocateIds(db, 'pre_key', count).map((id) => {
    const key = PrivateKey.generate();
    const record = PreKeyRecord.new(id, key.getPublicKey(), key);
    insert.run([id, record.serialize(), now]);
    return record;
  });
}

// The key to publish: a pending one (a rotation in progress) before the current one.
const NEWEST_LIVE =
  "state IN ('pending', 'current') ORDER BY state = 'pending' DESC, id DESC LIMIT 1";

/**
 * What this device publishes to a key directory: its signed and last-resort
 * keys (the pending ones while a rotation is in progress), and one-time keys:
 * all of them when `includePublished`, else those not yet published (at most
 * `limit` of each kind).
 */
export function publishedKeys(
  db: Sql,
  account: LocalAccount,
  includePublished = true,
  limit = -1,
): PublishedKeys {
  const signed = db
    .prepare(`SELECT record FROM signed_pre_keys WHERE ${NEWEST_LIVE}`, { pluck: true })
    .get() as Uint8Array<ArrayBuffer>;
  const lastResort = db
    .prepare(`SELECT record FROM kyber_pre_keys WHERE last_resort = 1 AND ${NEWEST_LIVE}`, {
      pluck: true,
    })
    .get() as Uint8Array<ArrayBuffer>;
  const onlyNew = includePublished ? '' : 'AND published = 0';
  const preKeys = db
    .prepare(`SELECT record FROM pre_keys WHERE 1 ${onlyNew} ORDER BY id LIMIT ?`, { pluck: true })
    .all<Uint8Array<ArrayBuffer>>([limit]);
  const kyber = db
    .prepare(
      `SELECT record FROM kyber_pre_keys WHERE last_resort = 0 ${onlyNew} ORDER BY id LIMIT ?`,
      { pluck: true },
    )
    .all<Uint8Array<ArrayBuffer>>([limit]);
  const signedRecord = SignedPreKeyRecord.deserialize(signed);
  const signedKyber = (record: KyberPreKeyRecord) => ({
    id: record.id(),
    publicKey: toBase64(record.publicKey().serialize()),
    signature: toBase64(record.signature()),
  });
  return {
    accountId: account.accountId,
    deviceId: account.deviceId,
    registrationId: account.registrationId,
    identityKey: toBase64(account.identity.publicKey.serialize()),
    signedPreKey: {
      id: signedRecord.id(),
      publicKey: toBase64(signedRecord.publicKey().serialize()),
      signature: toBase64(signedRecord.signature()),
    },
    lastResortKyberPreKey: signedKyber(KyberPreKeyRecord.deserialize(lastResort)),
    oneTimePreKeys: preKeys.map((blob) => {
      const record = PreKeyRecord.deserialize(blob);
      return { id: record.id(), publicKey: toBase64(record.publicKey().serialize()) };
    }),
    oneTimeKyberPreKeys: kyber.map((blob) => signedKyber(KyberPreKeyRecord.deserialize(blob))),
  };
}

/** Records that a relay accepted these one-time keys (so they are never published again). */
export function markKeysPublished(db: Sql, keys: PublishedKeys): void {
  const preKey = db.prepare('UPDATE pre_keys SET published = 1 WHERE id = ?');
  const kyber = db.prepare('UPDATE kyber_pre_keys SET published = 1 WHERE id = ?');
  db.transaction(() => {
    for (const key of keys.oneTimePreKeys) preKey.run([key.id]);
    for (const key of keys.oneTimeKyberPreKeys) kyber.run([key.id]);
  })();
}
