import { RELAY_LIMITS } from '../../../shared/relay/protocol.ts';
import type { Sql } from '../db/sqlite.ts';
import type { Profile } from '../profile/profile.ts';
import type { HomeRelay, KeyStatus } from '../sync/relay.ts';
import {
  addKyberPreKeys,
  addPreKeys,
  addSignedPreKey,
  markKeysPublished,
  publishedKeys,
} from './prekeys.ts';

// The life of this device's prekeys (docs/storage.md#keys):
// - signed EC and last-resort Kyber keys rotate every ROTATE_AFTER_MS. A new
//   key is committed as `pending` before it is published, and becomes
//   `current` only after the relay accepted it; the one it replaces stays
//   (`previous`) for GRACE_MS so PreKey messages made from it still decrypt.
//   A crash at any point leaves every key the relay may hand out with its
//   private half in the database (R2).
// - one-time keys: the relay's `keys.status` says which it still holds; the
//   others were handed out. Unused handed-out keys are deleted after GRACE_MS
//   (or sooner beyond MAX_HANDED_OUT_KEPT), the stock is refilled to
//   ONE_TIME_STOCK and the relay never holds more than its cap.

/** How often the signed and last-resort keys rotate (Signal: about every 2 days). */
export const ROTATE_AFTER_MS = 2 * 24 * 60 * 60 * 1000;
/** How long replaced keys and handed-out one-time keys are kept for messages in flight. */
export const GRACE_MS = 30 * 24 * 60 * 60 * 1000;
/** One-time keys of each kind kept available (on the relay or about to be published). */
export const ONE_TIME_STOCK = 100;
/** One-time keys of each kind the relay may hold; publishing never goes beyond. */
export const ONE_TIME_CAP = RELAY_LIMITS.maxStoredOneTimeKeys;
/** Handed-out, unused one-time keys of each kind kept at most: a stranger draining the stock cannot grow the store. */
export const MAX_HANDED_OUT_KEPT = 400;

/** What one maintenance pass did. */
export interface MaintenanceReport {
  readonly rotated: boolean;
  readonly generated: number;
  readonly published: number;
  readonly deleted: number;
}

/**
 * One maintenance pass against the home relay: learn which one-time keys
 * were handed out, delete expired keys, rotate when due, refill and publish
 * (frames of at most RELAY_LIMITS.maxOneTimeKeysPerPublish keys per kind).
 * The engine's `publishKeys` and the CLI call it; RELAY_UNAVAILABLE
 * propagates and the next pass resumes where this one stopped.
 */
export async function maintainKeys(
  profile: Profile,
  home: HomeRelay,
  now = Date.now(),
): Promise<MaintenanceReport> {
  const status = await home.keyStatus();
  const deleted = profile.commit(
    undefined,
    (db) => recordHandedOut(db, status, now) + deleteExpired(db, now),
  );
  const rotated = profile.commit(undefined, (db) => startRotationIfDue(profile, db, now));
  faultPoint('keys.after-generate');
  const generated = profile.commit(undefined, (db) => refill(profile, db, status, now));

  const signedId = liveId(profile.db, 'signed_pre_keys', '');
  const lastResortId = liveId(profile.db, 'kyber_pre_keys', 'AND last_resort = 1');
  let published = 0;
  let room = {
    pre: ONE_TIME_CAP - status.preKeyIds.length,
    kyber: ONE_TIME_CAP - status.kyberPreKeyIds.length,
  };
  let mustPublish =
    status.signedPreKeyId !== signedId || status.lastResortKyberPreKeyId !== lastResortId;
  for (;;) {
    const all = publishedKeys(
      profile.db,
      profile.account,
      false,
      RELAY_LIMITS.maxOneTimeKeysPerPublish,
    );
    const keys = {
      ...all,
      oneTimePreKeys: all.oneTimePreKeys.slice(0, Math.max(0, room.pre)),
      oneTimeKyberPreKeys: all.oneTimeKyberPreKeys.slice(0, Math.max(0, room.kyber)),
    };
    const count = keys.oneTimePreKeys.length + keys.oneTimeKyberPreKeys.length;
    if (count === 0 && !mustPublish) break;
    // Marked before the upload: a crash in between loses these keys to the relay
    // (keys.status later shows them missing and they expire) instead of
    // publishing them twice, which would let two peers consume one key.
    markKeysPublished(profile.db, keys);
    await home.publishKeys(keys);
    published += count;
    room = {
      pre: room.pre - keys.oneTimePreKeys.length,
      kyber: room.kyber - keys.oneTimeKyberPreKeys.length,
    };
    mustPublish = false;
  }
  faultPoint('keys.after-publish');
  profile.commit(undefined, (db) => completeRotation(db, now));
  return { rotated, generated, published, deleted };
}

/** The id of the signed (or last-resort) key a bundle would carry now. */
function liveId(
  db: Sql,
  table: 'signed_pre_keys' | 'kyber_pre_keys',
  where: string,
): number | null {
  const id = db
    .prepare(
      `SELECT id FROM ${table} WHERE state IN ('pending', 'current') ${where} ORDER BY state = 'pending' DESC, id DESC LIMIT 1`,
      {
        pluck: true,
      },
    )
    .get();
  return typeof id === 'number' ? id : null;
}

/** Published keys the relay no longer holds were handed out: their clock starts now. Returns 0 (nothing deleted). */
function recordHandedOut(db: Sql, status: KeyStatus, now: number): number {
  for (const [table, held, where] of [
    ['pre_keys', status.preKeyIds, ''],
    ['kyber_pre_keys', status.kyberPreKeyIds, 'AND last_resort = 0'],
  ] as const) {
    db.prepare(
      `UPDATE ${table} SET handed_out_at = ? WHERE published = 1 AND handed_out_at IS NULL ${where}
       AND id NOT IN (SELECT value FROM json_each(?))`,
    ).run([now, JSON.stringify(held)]);
  }
  return 0;
}

/** Deletes replaced keys and unused handed-out keys whose grace period is over (and handed-out keys beyond the cap). */
function deleteExpired(db: Sql, now: number): number {
  const before = now - GRACE_MS;
  let deleted = 0;
  deleted += db
    .prepare("DELETE FROM signed_pre_keys WHERE state = 'previous' AND superseded_at <= ?")
    .run([before]).changes;
  deleted += db
    .prepare(
      "DELETE FROM kyber_pre_keys WHERE last_resort = 1 AND state = 'previous' AND superseded_at <= ?",
    )
    .run([before]).changes;
  for (const [table, where] of [
    ['pre_keys', ''],
    ['kyber_pre_keys', 'AND last_resort = 0'],
  ] as const) {
    deleted += db
      .prepare(`DELETE FROM ${table} WHERE handed_out_at <= ? ${where}`)
      .run([before]).changes;
    deleted += db
      .prepare(
        `DELETE FROM ${table} WHERE id IN (SELECT id FROM ${table} WHERE handed_out_at IS NOT NULL ${where}
         ORDER BY handed_out_at DESC, id DESC LIMIT -1 OFFSET ?)`,
      )
      .run([MAX_HANDED_OUT_KEPT]).changes;
  }
  return deleted;
}

/** Makes pending signed and last-resort keys when the current ones are due (unless a rotation is already pending). */
function startRotationIfDue(profile: Profile, db: Sql, now: number): boolean {
  const pending = db.prepare("SELECT 1 FROM signed_pre_keys WHERE state = 'pending'").get();
  if (pending) return false;
  const current = db
    .prepare("SELECT max(created_at) FROM signed_pre_keys WHERE state = 'current'", { pluck: true })
    .get();
  if (typeof current === 'number' && current > now - ROTATE_AFTER_MS) return false;
  addSignedPreKey(db, profile.account.identity, now, 'pending');
  addKyberPreKeys(db, profile.account.identity, 1, true, now, 'pending');
  return true;
}

/** The relay accepted the pending keys: they become current, the current ones previous. */
function completeRotation(db: Sql, now: number): void {
  for (const [table, where] of [
    ['signed_pre_keys', ''],
    ['kyber_pre_keys', 'AND last_resort = 1'],
  ] as const) {
    if (!db.prepare(`SELECT 1 FROM ${table} WHERE state = 'pending' ${where}`).get()) continue;
    db.prepare(
      `UPDATE ${table} SET state = 'previous', superseded_at = ? WHERE state = 'current' ${where}`,
    ).run([now]);
    db.prepare(`UPDATE ${table} SET state = 'current' WHERE state = 'pending' ${where}`).run();
  }
}

/** Tops the one-time stock up to ONE_TIME_STOCK per kind (what the relay holds plus what is not yet published). */
function refill(profile: Profile, db: Sql, status: KeyStatus, now: number): number {
  const unpublished = (table: string, where: string) =>
    Number(
      db
        .prepare(`SELECT count(*) FROM ${table} WHERE published = 0 ${where}`, { pluck: true })
        .get(),
    );
  const pre = Math.max(0, ONE_TIME_STOCK - status.preKeyIds.length - unpublished('pre_keys', ''));
  const kyber = Math.max(
    0,
    ONE_TIME_STOCK -
      status.kyberPreKeyIds.length -
      unpublished('kyber_pre_keys', 'AND last_resort = 0'),
  );
  if (pre > 0) addPreKeys(db, pre, now);
  if (kyber > 0) addKyberPreKeys(db, profile.account.identity, kyber, false, now);
  return pre + kyber;
}

/**
 * Crash-test hook: `SOTTO_TEST_FAULT=<point>` kills this process at that point
 * (kill -9 semantics: no cleanup, no flush), so tests can show the key state
 * survives. Unset in every real run.
 */
export function faultPoint(point: string): void {
  if (process.env['SOTTO_TEST_FAULT'] === point) process.kill(process.pid, 'SIGKILL');
}
