import type { Sql } from '../db/sqlite.ts';
import { SottoError } from '../errors.ts';
import type {
  AccountRecordIn as AccountRecord,
  ContactRecordIn as ContactRecord,
  ConversationRecordIn as ConversationRecord,
  KeyRecordIn as KeyRecord,
} from './format/records.ts';
import {
  type KeyCounterRecord,
  type KeyUseRecord,
  type SettingRecord,
  UNCARRIED_SETTINGS,
} from './format/account-records.ts';
import { normalizeDisplayName } from '../profile/display-name.ts';

// Reads a profile database into backup records. Everything except messages is
// read at once (it grows with contacts, not with history); messages are read
// in id ranges by message-sql.ts's statements, on a connection of their own
// in a worker thread (message-blocks.ts).

const b64 = (bytes: Uint8Array) => Buffer.from(bytes).toString('base64');

/**
 * A contact's name as a backup may carry it: one that breaks the display name
 * rule (peers sent names before the rule was enforced everywhere) is written
 * as null (no name known), so every backup Sotto writes can be restored; the
 * contact's next message with a name fills it in again.
 */
function storableName(name: string | null): string | null {
  if (name === null) return null;
  try {
    return normalizeDisplayName(name) === name ? name : null;
  } catch {
    return null;
  }
}

/** This account's delivery token (hex in the settings) as the backup's base64; null if missing or damaged. */
function settingToken(db: Sql): string | null {
  const hex = db
    .prepare("SELECT value FROM settings WHERE key = 'delivery.token'", { pluck: true })
    .get();
  return typeof hex === 'string' && /^[0-9a-f]{32}$/.test(hex)
    ? Buffer.from(hex, 'hex').toString('base64')
    : null;
}

/** The pinned home relay id setting, if it is one. */
function relayIdSetting(db: Sql): string | null {
  const value = db
    .prepare("SELECT value FROM settings WHERE key = 'relay.id'", { pluck: true })
    .get();
  return typeof value === 'string' && /^[A-Za-z0-9_-]{22}$/.test(value) ? value : null;
}

/** Every record but messages, in stream order. */
export interface SmallRecords {
  readonly account: AccountRecord;
  readonly keys: readonly KeyRecord[];
  readonly keyUses: readonly KeyUseRecord[];
  readonly keyCounters: readonly KeyCounterRecord[];
  readonly settings: readonly SettingRecord[];
  readonly contacts: readonly ContactRecord[];
  readonly conversations: readonly ConversationRecord[];
}

/** Reads the account, keys, settings, contacts and conversations. */
export function readSmallRecords(db: Sql): SmallRecords {
  const a = db.prepare('SELECT * FROM account WHERE singleton = 1').get<{
    account_id: string;
    display_name: string;
    device_id: number;
    registration_id: number;
    identity_key_pair: Uint8Array<ArrayBuffer>;
    created_at: number;
  }>()!;
  const token = settingToken(db);
  // Every v2 profile has one (migration 0006 makes it); export refuses rather than write a backup that cannot be restored.
  if (token === null) throw new SottoError('DB_CORRUPT', 'no delivery token');
  const account: AccountRecord = {
    type: 'account',
    accountId: a.account_id,
    displayName: a.display_name,
    deviceId: a.device_id,
    registrationId: a.registration_id,
    identityKeyPair: b64(a.identity_key_pair),
    createdAt: a.created_at,
    deliveryToken: token,
    relayId: relayIdSetting(db),
  };
  type KeyRow = {
    id: number;
    record: Uint8Array<ArrayBuffer>;
    created_at: number;
    published: number;
    last_resort: number;
    state: 'pending' | 'current' | 'previous';
    superseded_at: number | null;
    handed_out_at: number | null;
  };
  const keyRows = (kind: KeyRecord['kind'], sql: string): KeyRecord[] =>
    db
      .prepare(sql)
      .all<KeyRow>()
      .map((r) => ({
        type: 'key',
        kind,
        id: r.id,
        record: b64(r.record),
        createdAt: r.created_at,
        published: r.published === 1,
        lastResort: r.last_resort === 1,
        state: r.state,
        supersededAt: r.superseded_at,
        handedOutAt: r.handed_out_at,
      }));
  // One-time keys: only published ones (docs/backup-format.md#keys-in-a-backup). A restored
  // unpublished key would be published again, and the old device may already have published it.
  const keys = [
    ...keyRows(
      'pre',
      `SELECT id, record, created_at, published, 0 AS last_resort, 'current' AS state, NULL AS superseded_at, handed_out_at
       FROM pre_keys WHERE published = 1 ORDER BY id`,
    ),
    ...keyRows(
      'signed',
      `SELECT id, record, created_at, 0 AS published, 0 AS last_resort, state,
              CASE state WHEN 'previous' THEN coalesce(superseded_at, created_at) END AS superseded_at, NULL AS handed_out_at
       FROM signed_pre_keys ORDER BY id`,
    ),
    ...keyRows(
      'kyber',
      `SELECT id, record, created_at, published, last_resort,
              CASE last_resort WHEN 1 THEN state ELSE 'current' END AS state,
              CASE WHEN last_resort = 1 AND state = 'previous' THEN coalesce(superseded_at, created_at) END AS superseded_at,
              CASE last_resort WHEN 1 THEN NULL ELSE handed_out_at END AS handed_out_at
       FROM kyber_pre_keys WHERE last_resort = 1 OR published = 1 ORDER BY id`,
    ),
  ];
  const keyUses = db
    .prepare(
      'SELECT kyber_pre_key_id, signed_pre_key_id, base_key FROM kyber_pre_key_uses ORDER BY 1, 2, 3',
    )
    .all<{
      kyber_pre_key_id: number;
      signed_pre_key_id: number;
      base_key: Uint8Array<ArrayBuffer>;
    }>()
    .map((r): KeyUseRecord => ({
      type: 'keyUse',
      kyberId: r.kyber_pre_key_id,
      signedId: r.signed_pre_key_id,
      baseKey: b64(r.base_key),
    }));
  const keyCounters = db
    .prepare('SELECT kind, next_id FROM key_counters ORDER BY kind')
    .all<{ kind: KeyCounterRecord['kind']; next_id: number }>()
    .map((r): KeyCounterRecord => ({ type: 'keyCounter', kind: r.kind, nextId: r.next_id }));
  const settings = db
    .prepare('SELECT key, value FROM settings ORDER BY key')
    .all<{ key: string; value: string }>()
    .filter((r) => !UNCARRIED_SETTINGS.includes(r.key))
    .map((r): SettingRecord => ({ type: 'setting', key: r.key, value: r.value }));
  const contacts = db
    .prepare(
      `SELECT k.account_id, k.display_name, k.relay, k.created_at, i.public_key, i.trust, i.verified, i.first_seen_at, i.changed_at,
              k.relay_id, k.delivery_token, k.token_sent_at, k.blocked,
              m.to_account, m.identity_key, m.relay AS move_relay, m.relay_id AS move_relay_id, m.token AS move_token,
              m.issued_at, m.received_at, m.accepted_at
       FROM contacts k LEFT JOIN identities i ON i.account_id = k.account_id
       LEFT JOIN identity_moves m ON m.from_account = k.account_id ORDER BY k.id`,
    )
    .all<{
      account_id: string;
      display_name: string | null;
      relay: string | null;
      created_at: number;
      public_key: Uint8Array<ArrayBuffer> | null;
      trust: 'trusted' | 'changed' | null;
      verified: number | null;
      first_seen_at: number | null;
      changed_at: number | null;
      relay_id: string | null;
      delivery_token: Uint8Array<ArrayBuffer> | null;
      token_sent_at: number | null;
      blocked: number;
      to_account: string | null;
      identity_key: Uint8Array<ArrayBuffer> | null;
      move_relay: string | null;
      move_relay_id: string | null;
      move_token: string | null;
      issued_at: number | null;
      received_at: number | null;
      accepted_at: number | null;
    }>()
    .map((r): ContactRecord => ({
      type: 'contact',
      accountId: r.account_id,
      displayName: storableName(r.display_name),
      relay: r.relay,
      createdAt: r.created_at,
      identity: r.public_key
        ? {
            publicKey: b64(r.public_key),
            trust: r.trust ?? 'trusted',
            verified: r.verified === 1,
            firstSeenAt: r.first_seen_at ?? r.created_at,
            changedAt: r.changed_at,
          }
        : null,
      relayId: r.relay_id,
      deliveryToken: r.delivery_token ? b64(r.delivery_token) : null,
      tokenSentAt: r.token_sent_at,
      blocked: r.blocked === 1,
      move:
        r.to_account !== null && r.identity_key !== null
          ? {
              to: r.to_account,
              identityKey: b64(r.identity_key),
              relay: r.move_relay ?? '',
              relayId: r.move_relay_id ?? '',
              token: r.move_token ?? '',
              issuedAt: r.issued_at ?? 0,
              receivedAt: r.received_at ?? 0,
              acceptedAt: r.accepted_at,
            }
          : null,
    }));
  const conversations = db
    .prepare(
      `SELECT k.account_id, c.created_at, c.last_message_at, c.unread_count, c.identity_changed, c.draft,
         c.muted_until FROM conversations c JOIN contacts k ON k.id = c.contact_id ORDER BY c.id`,
    )
    .all<{
      account_id: string;
      created_at: number;
      last_message_at: number | null;
      unread_count: number;
      identity_changed: number;
      draft: string | null;
      muted_until: number | null;
    }>()
    .map((r): ConversationRecord => ({
      type: 'conversation',
      with: r.account_id,
      createdAt: r.created_at,
      lastMessageAt: r.last_message_at,
      unreadCount: r.unread_count,
      identityChanged: r.identity_changed === 1,
      draft: r.draft,
      mutedUntil: r.muted_until,
    }));
  return { account, keys, keyUses, keyCounters, settings, contacts, conversations };
}
