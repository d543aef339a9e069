import { randomBytes } from 'node:crypto';
import type pg from 'pg';
import { NewerRelayDataError } from '../sqlite-schema.ts';
import { ACK_ORDER_MIGRATION } from './ack-order-migration.ts';
import { ACK_STORE_MIGRATION } from './ack-store-migration.ts';
import { BATCH_MIGRATION } from './batch-migration.ts';
import { HOT_PATH_MIGRATION } from './hot-path-migration.ts';
import { LEAN_STORE_MIGRATION } from './lean-store-migration.ts';
import { LEASE_MIGRATION } from './lease-migration.ts';
import { PUSH_MIGRATION } from './push-migration.ts';
import { TAKEN_KEYS_MIGRATION } from './taken-keys-migration.ts';

// The PostgreSQL relay database's schema (docs/relay-operations.md#schema).
// relay_schema.version records how many MIGRATIONS have run; append, never
// edit, a migration. Every node applies them at start, under an advisory
// lock, so nodes starting together do not race: the second waits, then finds
// nothing left to do.

/** pg_advisory_lock key of the migration (any constant unlikely to clash: "sotto" in ASCII). */
export const MIGRATION_LOCK = 0x736f74746f;

/** Stripes of the relay-wide byte counter: one hot row would serialize every submit of every node. */
export const USAGE_STRIPES = 16;

const MIGRATIONS: readonly string[] = [
  `
  CREATE TABLE relay_meta (key text PRIMARY KEY, value text NOT NULL);

  -- Account id -> identity key, bound by the first login whose key derives the id.
  -- token_hash: SHA-256 of the delivery token (kept after a move, for the moved answer only).
  CREATE TABLE account (
    account_id   uuid PRIMARY KEY,
    identity_key bytea NOT NULL,
    bound_at     bigint NOT NULL,
    token_hash   bytea,
    moved_at     bigint
  );

  -- The replaceable keys of a device, as published (base64; the relay never interprets them).
  CREATE TABLE device_keys (
    account_id                  uuid NOT NULL,
    device_id                   integer NOT NULL,
    registration_id             integer NOT NULL,
    identity_key                text NOT NULL,
    signed_pre_key_id           integer NOT NULL,
    signed_pre_key              text NOT NULL,
    signed_pre_key_signature    text NOT NULL,
    last_resort_kyber_id        integer NOT NULL,
    last_resort_kyber_key       text NOT NULL,
    last_resort_kyber_signature text NOT NULL,
    updated_at                  bigint NOT NULL,
    PRIMARY KEY (account_id, device_id)
  );

  -- One-time keys; kind 1 = EC, 2 = Kyber (signed). seq is publication order,
  -- so "oldest first" survives key-id wraparound.
  CREATE TABLE one_time_key (
    seq        bigserial PRIMARY KEY,
    account_id uuid NOT NULL,
    device_id  integer NOT NULL,
    kind       smallint NOT NULL CHECK (kind IN (1, 2)),
    key_id     integer NOT NULL,
    public_key text NOT NULL,
    signature  text,
    UNIQUE (account_id, device_id, kind, key_id)
  );
  CREATE INDEX one_time_key_order ON one_time_key (account_id, device_id, kind, seq);

  -- One row per mailbox: next_seq is bumped under this row's lock in the
  -- insert's transaction, so seq order is commit order for each mailbox (a
  -- global sequence is handed out before commit and is not); envelopes and
  -- bytes are the maintained counters (no COUNT(*) on intake).
  CREATE TABLE mailbox (
    account_id uuid NOT NULL,
    device_id  integer NOT NULL,
    next_seq   bigint NOT NULL DEFAULT 1,
    envelopes  integer NOT NULL DEFAULT 0,
    bytes      bigint NOT NULL DEFAULT 0,
    PRIMARY KEY (account_id, device_id)
  );

  -- Sealed envelopes: no sender anywhere. The idempotency key lives and dies with the row.
  CREATE TABLE envelope (
    account_id        uuid NOT NULL,
    device_id         integer NOT NULL,
    seq               bigint NOT NULL,
    id                text NOT NULL UNIQUE,
    client_message_id text NOT NULL,
    body              bytea NOT NULL,
    received_at       bigint NOT NULL,
    PRIMARY KEY (account_id, device_id, seq),
    UNIQUE (account_id, device_id, client_message_id)
  ) WITH (autovacuum_vacuum_scale_factor = 0.01, autovacuum_vacuum_threshold = 1000);
  CREATE INDEX envelope_age ON envelope (received_at);

  -- Envelope bytes the whole relay holds, striped (USAGE_STRIPES rows, summed to read).
  CREATE TABLE relay_usage (stripe smallint PRIMARY KEY, bytes bigint NOT NULL);
  INSERT INTO relay_usage SELECT s, 0 FROM generate_series(0, ${USAGE_STRIPES - 1}) AS s;

  -- Stores one envelope in a mailbox whose row the caller created; the caller
  -- adds the returned byte count to one relay_usage stripe last, after every
  -- mailbox lock of its transaction, so no two transactions wait in a cycle.
  CREATE FUNCTION relay_store(p_account uuid, p_device integer, p_client_id text, p_body bytea,
                              p_received bigint, p_quota integer, p_max_bytes bigint,
                              p_added bigint, p_id text)
  RETURNS TABLE (kind text, envelope_id text) LANGUAGE plpgsql AS $$
  DECLARE
    box mailbox%ROWTYPE;
    earlier text;
    total bigint;
  BEGIN
    SELECT * INTO box FROM mailbox
     WHERE account_id = p_account AND device_id = p_device FOR UPDATE;
    SELECT e.id INTO earlier FROM envelope e
     WHERE e.account_id = p_account AND e.device_id = p_device AND e.client_message_id = p_client_id;
    IF FOUND THEN
      RETURN QUERY SELECT 'duplicate'::text, earlier;
      RETURN;
    END IF;
    IF box.envelopes >= p_quota THEN
      RETURN QUERY SELECT 'mailbox-full'::text, NULL::text;
      RETURN;
    END IF;
    SELECT sum(u.bytes) INTO total FROM relay_usage u;
    IF total + p_added + length(p_body) > p_max_bytes THEN
      RETURN QUERY SELECT 'storage-full'::text, NULL::text;
      RETURN;
    END IF;
    INSERT INTO envelope (account_id, device_id, seq, id, client_message_id, body, received_at)
      VALUES (p_account, p_device, box.next_seq, p_id, p_client_id, p_body, p_received);
    UPDATE mailbox SET next_seq = next_seq + 1, envelopes = envelopes + 1,
                       bytes = bytes + length(p_body)
     WHERE account_id = p_account AND device_id = p_device;
    RETURN QUERY SELECT 'stored'::text, p_id;
  END $$;
  `,
  `
  -- Attachment blobs (docs/relay-protocol.md#blobs). The bytes live in the
  -- BlobStore under storage_key (random, never the blob id: the id is a
  -- capability); token_hash is SHA-256 of the upload token; length, the
  -- declared length, counts against the uploader's quota until expires_at.
  CREATE TABLE blob (
    blob_id     text PRIMARY KEY,
    account_id  uuid NOT NULL,
    storage_key text NOT NULL UNIQUE,
    token_hash  bytea NOT NULL,
    length      bigint NOT NULL,
    expires_at  bigint NOT NULL,
    complete    boolean NOT NULL DEFAULT false
  );
  CREATE INDEX blob_account ON blob (account_id, expires_at);
  CREATE INDEX blob_expiry ON blob (expires_at);
  `,
  `
  -- Budgets shared by every node (docs/relay-operations.md#shared-budgets): one
  -- token bucket per (budget, key). Nodes lease tokens from it in chunks, so
  -- the hot path touches this table once per chunk, not once per envelope.
  -- full_at: when the bucket is full again (then the row equals no row and the sweep deletes it).
  CREATE TABLE relay_budget (
    key     text PRIMARY KEY,
    tokens  double precision NOT NULL,
    at      timestamptz NOT NULL,
    full_at timestamptz NOT NULL
  ) WITH (autovacuum_vacuum_scale_factor = 0.05);
  CREATE INDEX relay_budget_full ON relay_budget (full_at);

  -- Refills the bucket with the database's clock (node clocks may disagree),
  -- then grants max(p_need, p_chunk) tokens capped to what it holds, or
  -- nothing if it holds fewer than p_need. Returns the grant and what is left.
  CREATE FUNCTION relay_budget_lease(p_key text, p_burst double precision,
                                     p_rate double precision, p_need double precision,
                                     p_chunk double precision,
                                     OUT granted double precision, OUT remaining double precision)
  LANGUAGE plpgsql AS $$
  DECLARE
    t timestamptz := clock_timestamp();
    held double precision;
  BEGIN
    INSERT INTO relay_budget VALUES (p_key, p_burst, t, t) ON CONFLICT (key) DO NOTHING;
    SELECT least(p_burst, b.tokens + p_rate * greatest(0, extract(epoch FROM t - b.at)))
      INTO held FROM relay_budget b WHERE b.key = p_key FOR UPDATE;
    granted := CASE WHEN held >= p_need THEN least(held, greatest(p_need, p_chunk)) ELSE 0 END;
    remaining := held - granted;
    UPDATE relay_budget SET tokens = remaining, at = t,
      full_at = t + make_interval(secs => CASE WHEN p_rate > 0
                                               THEN (p_burst - remaining) / p_rate
                                               ELSE 315360000 END)
     WHERE key = p_key;
  END $$;
  `,
  HOT_PATH_MIGRATION,
  BATCH_MIGRATION,
  PUSH_MIGRATION,
  ACK_STORE_MIGRATION,
  LEASE_MIGRATION,
  TAKEN_KEYS_MIGRATION,
  ACK_ORDER_MIGRATION,
  LEAN_STORE_MIGRATION,
];

/** The version a database has once this release migrated it: how many migrations it ran. */
export const SCHEMA_VERSION = MIGRATIONS.length;

/**
 * Brings the schema up to date under a session advisory lock, each migration
 * in its own transaction; the first one also writes the relay id (16 random
 * bytes, base64url), so the id is created with the data. Throws
 * NewerRelayDataError if a newer relay migrated this database.
 */
export async function migrate(pool: pg.Pool): Promise<void> {
  const client = await pool.connect();
  // A checked-out client has no error listener (see PostgresRelayStorage.transaction):
  // a connection lost while migrating fails the open instead of ending the process.
  let lost: Error | undefined;
  const onError = (error: Error): void => {
    lost = error;
  };
  client.on('error', onError);
  try {
    // Neither the wait for another node's migration nor a migration over a
    // large table may be cut off by the pool's 30 s statement timeout (the
    // node would then fail to start every time); RESET restores it below.
    await client.query('SET statement_timeout = 0');
    await client.query('SELECT pg_advisory_lock($1)', [MIGRATION_LOCK]);
    await client.query('CREATE TABLE IF NOT EXISTS relay_schema (version integer NOT NULL)');
    const { rows } = await client.query<{ version: number }>('SELECT version FROM relay_schema');
    const version = rows[0]?.version ?? 0;
    if (version > MIGRATIONS.length) throw new NewerRelayDataError();
    for (const [index, sql] of MIGRATIONS.entries()) {
      if (index < version) continue;
      await client.query('BEGIN');
      try {
        await client.query(sql);
        if (index === 0)
          await client.query("INSERT INTO relay_meta VALUES ('relay_id', $1)", [
            randomBytes(16).toString('base64url'),
          ]);
        await client.query('DELETE FROM relay_schema');
        await client.query('INSERT INTO relay_schema VALUES ($1)', [index + 1]);
        await client.query('COMMIT');
      } catch (error) {
        await client.query('ROLLBACK');
        throw error;
      }
    }
  } finally {
    await client.query('SELECT pg_advisory_unlock_all()').catch(() => undefined);
    await client.query('RESET statement_timeout').catch(() => undefined);
    client.off('error', onError);
    client.release(lost);
  }
}
