// Migration 7 of the PostgreSQL relay database (schema.ts runs it): a node's
// pending acks ride in its next store call, one statement and one commit for
// both (docs/relay-operations.md#what-a-message-costs). Append-only like every
// migration once released; relay_store_sequenced (migration 6) and
// relay_ack_batch (migration 5) stay, unchanged: this release still calls
// them when it has only stores or only acks, and nodes of the previous
// release call nothing else during a rolling upgrade.

/** The SQL of migration 7. */
export const ACK_STORE_MIGRATION = `
  -- The acks of relay_ack_batch and the stores of relay_store_sequenced in one
  -- call and one durable transaction. Acks first, judged exactly as
  -- relay_ack_batch judges them (rows 'ack': n = the ack's 1-based group,
  -- removed = -1 if one of its ids is another mailbox's, else how many it
  -- deleted); then the stores, answered as relay_store_sequenced answers
  -- (removed NULL). What the acks freed counts for the stores' mailbox quota;
  -- the relay-wide storage total is read before they freed it (conservative).
  -- Lock order as everywhere: envelope rows (the acks' deletes, as the TTL
  -- sweep and relay_ack_batch take them), then the mailbox rows of both
  -- halves at once in (account_id, device_id) order, then one stripe (the
  -- store's, which takes the freed bytes too). Locking the acks' mailboxes
  -- and the stores' mailboxes in two sorted passes instead would let two
  -- nodes' calls wait on each other in a cycle.
  CREATE FUNCTION relay_ack_store(p_ack_accounts uuid[], p_ack_devices integer[],
                                  p_ack_groups integer[], p_ack_ids text[],
                                  p_accounts uuid[], p_devices integer[], p_client_ids text[],
                                  p_bodies bytea[], p_received bigint[], p_ids text[],
                                  p_token_hashes bytea[], p_quota integer,
                                  p_max_bytes bigint, p_stripe integer)
  RETURNS TABLE (n integer, kind text, envelope_id text, seq bigint, removed integer)
  LANGUAGE plpgsql AS $$
  DECLARE
    refused integer[];
    gone_groups integer[];
    gone_accounts uuid[];
    gone_devices integer[];
    gone_sizes bigint[];
    freed bigint;
  BEGIN
    PERFORM set_config('plan_cache_mode', 'force_generic_plan', true);
    -- One statement, one snapshot: the foreign ids and the deletes see the same rows.
    WITH asked AS (SELECT t.g, t.id FROM unnest(p_ack_groups, p_ack_ids) AS t(g, id)),
    foreign_ids AS (
      SELECT DISTINCT a.g FROM asked a JOIN envelope e ON e.id = a.id
       WHERE (e.account_id, e.device_id) <> (p_ack_accounts[a.g], p_ack_devices[a.g])),
    gone AS (
      DELETE FROM envelope e
       USING (SELECT min(a.g) AS g, a.id FROM asked a
               WHERE a.g NOT IN (SELECT f.g FROM foreign_ids f) GROUP BY a.id) AS k
       WHERE e.id = k.id AND (e.account_id, e.device_id) = (p_ack_accounts[k.g], p_ack_devices[k.g])
      RETURNING k.g, e.account_id, e.device_id, length(e.body)::bigint AS size)
    SELECT (SELECT coalesce(array_agg(f.g), '{}') FROM foreign_ids f),
           coalesce(array_agg(gone.g), '{}'), coalesce(array_agg(gone.account_id), '{}'),
           coalesce(array_agg(gone.device_id), '{}'), coalesce(array_agg(gone.size), '{}')
      INTO refused, gone_groups, gone_accounts, gone_devices, gone_sizes FROM gone;
    INSERT INTO mailbox (account_id, device_id)
      SELECT DISTINCT a, d FROM unnest(p_accounts, p_devices) AS t(a, d) ORDER BY a, d
      ON CONFLICT DO NOTHING;
    PERFORM 1 FROM mailbox m
      JOIN (SELECT a, d FROM unnest(p_accounts, p_devices) AS s(a, d)
            UNION SELECT a, d FROM unnest(gone_accounts, gone_devices) AS k(a, d)) AS t
        ON m.account_id = t.a AND m.device_id = t.d
     ORDER BY m.account_id, m.device_id FOR UPDATE OF m;
    UPDATE mailbox m SET envelopes = m.envelopes - b.k, bytes = m.bytes - b.b
      FROM (SELECT a, d, count(*)::integer AS k, sum(s)::bigint AS b
              FROM unnest(gone_accounts, gone_devices, gone_sizes) AS t(a, d, s)
             GROUP BY a, d) AS b
     WHERE m.account_id = b.a AND m.device_id = b.d;
    RETURN QUERY
      SELECT a.g, 'ack'::text, NULL::text, NULL::bigint,
             CASE WHEN a.g = ANY (refused) THEN -1
                  ELSE (SELECT count(*)::integer FROM unnest(gone_groups) AS x(g) WHERE x.g = a.g) END
        FROM generate_series(1, coalesce(array_length(p_ack_accounts, 1), 0)) AS a(g);
    RETURN QUERY
      SELECT s.n, s.kind, s.envelope_id, s.seq, NULL::integer
        FROM relay_store_sequenced(p_accounts, p_devices, p_client_ids, p_bodies, p_received,
                                   p_ids, p_token_hashes, p_quota, p_max_bytes, p_stripe) AS s;
    SELECT coalesce(sum(s), 0) INTO freed FROM unnest(gone_sizes) AS t(s);
    IF freed <> 0 THEN
      UPDATE relay_usage SET bytes = bytes - freed WHERE stripe = p_stripe;
    END IF;
  END $$;
`;
