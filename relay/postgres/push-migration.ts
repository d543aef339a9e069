// Migration 6 of the PostgreSQL relay database (schema.ts runs it): what a
// node needs to push an envelope it just stored without reading it back
// (docs/relay-operations.md#pushes-without-the-read). Append-only like every
// migration once released; relay_store_checked (migration 5) stays, unchanged,
// for nodes of the previous release during a rolling upgrade.

/** The SQL of migration 6. */
export const PUSH_MIGRATION = `
  -- relay_store_checked with each stored envelope's seq: a node that knows the
  -- seq of what it stored can push it from memory when it is the next one a
  -- connection's push window expects. A wrapper rather than a copy, so the
  -- store's rules stay in one place; the seq is read in a statement of its
  -- own, after the store's, so it sees the store's rows (one probe of the
  -- envelope id's unique index per stored envelope, in the same transaction).
  CREATE FUNCTION relay_store_sequenced(p_accounts uuid[], p_devices integer[], p_client_ids text[],
                                        p_bodies bytea[], p_received bigint[], p_ids text[],
                                        p_token_hashes bytea[], p_quota integer,
                                        p_max_bytes bigint, p_stripe integer)
  RETURNS TABLE (n integer, kind text, envelope_id text, seq bigint) LANGUAGE plpgsql AS $$
  DECLARE
    r record;
  BEGIN
    PERFORM set_config('plan_cache_mode', 'force_generic_plan', true);
    FOR r IN SELECT * FROM relay_store_checked(p_accounts, p_devices, p_client_ids, p_bodies,
                                               p_received, p_ids, p_token_hashes, p_quota,
                                               p_max_bytes, p_stripe) LOOP
      n := r.n;
      kind := r.kind;
      envelope_id := r.envelope_id;
      seq := NULL;
      IF r.kind = 'stored' THEN
        SELECT e.seq INTO seq FROM envelope e WHERE e.id = r.envelope_id;
      END IF;
      RETURN NEXT;
    END LOOP;
  END $$;

  -- The key that authenticates envelopes carried in wakeup payloads
  -- (wake-payload.ts): any role that can connect may NOTIFY on the wakeup
  -- channel, only the relay's role can read this row. 2 × 122 random bits.
  INSERT INTO relay_meta (key, value)
    VALUES ('wake_key', replace(gen_random_uuid()::text || gen_random_uuid()::text, '-', ''))
    ON CONFLICT (key) DO NOTHING;
`;
