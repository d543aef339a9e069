import { IdentityKeyPair, PublicKey } from '@signalapp/libsignal-client';
import { accountIdFromLegacy, LEGACY_ACCOUNT_ID } from '../../../../shared/protocol/account-id.ts';
import { deriveAccountId } from '../../crypto/account-id.ts';
import type { Migration } from '../migration.ts';
import type { Sql } from '../sqlite.ts';

/**
 * Every column that holds an account id, by table. Listed explicitly: a new
 * column holding account ids must be added here (tests/integration/core/
 * migrations.test.ts scans a migrated profile for any id left in the old form).
 * `sessions` and `sender_keys` hold libsignal addresses, `<account id>.<device>`.
 */
export const ACCOUNT_ID_COLUMNS = [
  { table: 'contacts', column: 'account_id' },
  { table: 'identities', column: 'account_id' },
  { table: 'identity_changes', column: 'account_id' },
  { table: 'messages', column: 'sender_account' },
  { table: 'outbox', column: 'recipient' },
  { table: 'failed_envelopes', column: 'sender_account' },
] as const;
const ADDRESS_COLUMNS = [
  { table: 'sessions', column: 'address' },
  { table: 'sender_keys', column: 'address' },
] as const;

/** The new form of a stored id; anything that is not a legacy id is left as it is. */
function upgradeId(value: string): string {
  return LEGACY_ACCOUNT_ID.test(value) ? accountIdFromLegacy(value) : value;
}

/** `<legacy id>.<device>` → `<uuid id>.<device>`. */
function upgradeAddress(value: string): string {
  const dot = value.lastIndexOf('.');
  return dot < 0 ? value : `${upgradeId(value.slice(0, dot))}${value.slice(dot)}`;
}

function rewriteColumn(
  db: Sql,
  table: string,
  column: string,
  upgrade: (value: string) => string,
): void {
  // Table and column names come from the constant lists above, never from input.
  const values = db
    .prepare(`SELECT DISTINCT ${column} FROM ${table}`, { pluck: true })
    .all<string>();
  const update = db.prepare(`UPDATE ${table} SET ${column} = ? WHERE ${column} = ?`);
  for (const value of values) {
    const next = upgrade(value);
    if (next !== value) update.run([next, value]);
  }
}

/**
 * The account row: its id is re-derived from its own key rather than mapped,
 * because the first format's identity reset kept the id while replacing the
 * key, and an id that is not its key's is exactly what this release forbids.
 */
function rewriteAccount(db: Sql): void {
  const row = db
    .prepare('SELECT account_id, identity_key_pair FROM account WHERE singleton = 1')
    .get<{
      account_id: string;
      identity_key_pair: Uint8Array<ArrayBuffer>;
    }>();
  if (!row) return;
  const derived = deriveAccountId(IdentityKeyPair.deserialize(row.identity_key_pair).publicKey);
  if (derived === row.account_id) return;
  db.prepare('UPDATE account SET account_id = ? WHERE singleton = 1').run([derived]);
  // Our own outgoing messages carry our id as sender (the dedupe key, R3).
  db.prepare('UPDATE messages SET sender_account = ? WHERE sender_account = ?').run([
    derived,
    upgradeId(row.account_id),
  ]);
}

/**
 * Account ids become UUID-shaped (docs/message-format.md#account-ids): every
 * stored id is rewritten (same digest, so no key is needed). New bookkeeping
 * for this release's identity rules:
 * - `trust_refusals`: per-code counters of refused keys and move notices (shown by `status`);
 * - `identity_moves`: move notices received from contacts (pending until the user accepts);
 * - `own_moves`: notices this profile signed at an identity reset, until its home relay took them;
 * - signed and last-resort keys get a lifecycle (pending → current → previous, deleted after a
 *   grace period) and one-time keys remember when the relay handed them out.
 */
export const migration0007: Migration = {
  version: 7,
  name: 'uuid-account-ids-and-key-lifecycle',
  up(db) {
    // contacts.account_id is UNIQUE and identities.account_id a primary key: two legacy ids
    // never map to one new id (both are prefixes of one digest), so updates cannot collide.
    for (const { table, column } of ACCOUNT_ID_COLUMNS) rewriteColumn(db, table, column, upgradeId);
    for (const { table, column } of ADDRESS_COLUMNS)
      rewriteColumn(db, table, column, upgradeAddress);
    rewriteAccount(db);
    db.exec(`
      CREATE TABLE trust_refusals (
        code TEXT PRIMARY KEY,
        count INTEGER NOT NULL,
        last_at INTEGER NOT NULL
      ) STRICT, WITHOUT ROWID;

      -- from_account: the contact that moved. Kept after acceptance so a replayed
      -- or older notice is recognised (issued_at only grows).
      CREATE TABLE identity_moves (
        from_account TEXT PRIMARY KEY,
        to_account TEXT NOT NULL,
        identity_key BLOB NOT NULL,
        relay TEXT NOT NULL,
        relay_id TEXT NOT NULL,
        token TEXT NOT NULL,
        issued_at INTEGER NOT NULL,
        received_at INTEGER NOT NULL,
        accepted_at INTEGER
      ) STRICT, WITHOUT ROWID;

      -- notice: the signed move notice (JSON, shared/relay/protocol.ts moveNoticeSchema).
      CREATE TABLE own_moves (
        id INTEGER PRIMARY KEY,
        notice TEXT NOT NULL,
        created_at INTEGER NOT NULL,
        announced_at INTEGER
      ) STRICT;

      ALTER TABLE signed_pre_keys ADD COLUMN state TEXT NOT NULL DEFAULT 'current'
        CHECK (state IN ('pending', 'current', 'previous'));
      ALTER TABLE signed_pre_keys ADD COLUMN superseded_at INTEGER;
      ALTER TABLE kyber_pre_keys ADD COLUMN state TEXT NOT NULL DEFAULT 'current'
        CHECK (state IN ('pending', 'current', 'previous'));
      ALTER TABLE kyber_pre_keys ADD COLUMN superseded_at INTEGER;
      ALTER TABLE kyber_pre_keys ADD COLUMN handed_out_at INTEGER;
      ALTER TABLE pre_keys ADD COLUMN handed_out_at INTEGER;
    `);
    // Only the newest signed and last-resort key stay current; older ones start their grace period now.
    const now = Date.now();
    db.prepare(
      `UPDATE signed_pre_keys SET state = 'previous', superseded_at = ?
       WHERE id <> (SELECT id FROM signed_pre_keys ORDER BY created_at DESC, id DESC LIMIT 1)`,
    ).run([now]);
    db.prepare(
      `UPDATE kyber_pre_keys SET state = 'previous', superseded_at = ?
       WHERE last_resort = 1 AND id <> (SELECT id FROM kyber_pre_keys WHERE last_resort = 1 ORDER BY id DESC LIMIT 1)`,
    ).run([now]);
    repairForgedIdentities(db);
  },
};

/**
 * Before this release a known contact presenting another key was stored as
 * "changed" and could be accepted. An identity whose key does not derive its
 * account id can never be genuine: pin the newest key in its history that
 * does (or none: the next contact re-pins from the id), and drop sessions
 * built on the forged key.
 */
function repairForgedIdentities(db: Sql): void {
  const rows = db
    .prepare('SELECT account_id, public_key FROM identities')
    .all<{ account_id: string; public_key: Uint8Array<ArrayBuffer> }>();
  const history = db.prepare(
    'SELECT old_key, new_key FROM identity_changes WHERE account_id = ? ORDER BY id DESC',
  );
  for (const row of rows) {
    if (derives(row.public_key, row.account_id)) continue;
    const genuine = history
      .all<{ old_key: Uint8Array<ArrayBuffer>; new_key: Uint8Array<ArrayBuffer> }>([row.account_id])
      .flatMap((change) => [change.new_key, change.old_key])
      .find((key) => derives(key, row.account_id));
    if (genuine) {
      db.prepare(
        "UPDATE identities SET public_key = ?, trust = 'trusted', verified = 0, changed_at = NULL WHERE account_id = ?",
      ).run([genuine, row.account_id]);
    } else {
      db.prepare('DELETE FROM identities WHERE account_id = ?').run([row.account_id]);
    }
    db.prepare("DELETE FROM sessions WHERE address LIKE ? ESCAPE '\\'").run([
      `${row.account_id}.%`,
    ]);
    db.prepare(
      'UPDATE conversations SET identity_changed = 0 WHERE contact_id = (SELECT id FROM contacts WHERE account_id = ?)',
    ).run([row.account_id]);
    db.prepare(
      'UPDATE identity_changes SET accepted_at = coalesce(accepted_at, 0) WHERE account_id = ?',
    ).run([row.account_id]);
    db.prepare(
      `INSERT INTO trust_refusals (code, count, last_at) VALUES ('identity.forged', 1, ?)
       ON CONFLICT (code) DO UPDATE SET count = count + 1, last_at = excluded.last_at`,
    ).run([Date.now()]);
  }
}

function derives(key: Uint8Array, accountId: string): boolean {
  try {
    return deriveAccountId(PublicKey.deserialize(Uint8Array.from(key))) === accountId;
  } catch {
    return false;
  }
}
