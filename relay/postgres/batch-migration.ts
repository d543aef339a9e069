// Migration 5 of the PostgreSQL relay database (schema.ts runs it): the
// delivery-token check inside the store batch, and the acks of many
// connections in one call (docs/relay-operations.md#what-a-message-costs).
// Append-only like every migration once released; relay_store_batch and
// relay_ack (migration 4) stay for nodes of the previous release during a
// rolling upgrade.

/** The SQL of migration 5. */
export const BATCH_MIGRATION = `
  -- GENERIC_PLANS: both functions plan their statements once per session
  -- (plan_cache_mode, local to the call's autocommit transaction). With the
  -- default, PostgreSQL kept re-planning them for their array parameters:
  -- 0.5-0.65 CPU-ms per one-envelope store, against 0.3-0.39 generic. Every
  -- statement is an index probe on a key, so the generic plan is the same.

  -- relay_store_batch (migration 4) with one more array: the SHA-256 of the
  -- delivery token each sender presented (NULL: not checked). The check is
  -- made against the committed account row in the store's own statement, so
  -- a node may accept a token from its memory of the row (the relay's token
  -- cache) and a token changed or an account moved on another node meanwhile
  -- still refuses the envelope ('bad-token', 'moved'), before the duplicate
  -- check, so a stranger learns nothing about what is queued.
  CREATE FUNCTION relay_store_checked(p_accounts uuid[], p_devices integer[], p_client_ids text[],
                                      p_bodies bytea[], p_received bigint[], p_ids text[],
                                      p_token_hashes bytea[], p_quota integer,
                                      p_max_bytes bigint, p_stripe integer)
  RETURNS TABLE (n integer, kind text, envelope_id text) LANGUAGE plpgsql AS $$
  DECLARE
    box mailbox%ROWTYPE;
    owner account%ROWTYPE;
    earlier text;
    total bigint;
    added bigint := 0;
  BEGIN
    -- See GENERIC_PLANS.
    PERFORM set_config('plan_cache_mode', 'force_generic_plan', true);
    INSERT INTO mailbox (account_id, device_id)
      SELECT DISTINCT a, d FROM unnest(p_accounts, p_devices) AS t(a, d) ORDER BY a, d
      ON CONFLICT DO NOTHING;
    PERFORM 1 FROM mailbox m
      JOIN (SELECT DISTINCT a, d FROM unnest(p_accounts, p_devices) AS t(a, d)) AS t
        ON m.account_id = t.a AND m.device_id = t.d
     ORDER BY m.account_id, m.device_id FOR UPDATE OF m;
    SELECT sum(u.bytes) INTO total FROM relay_usage u;
    FOR i IN 1 .. coalesce(array_length(p_accounts, 1), 0) LOOP
      n := i;
      envelope_id := NULL;
      IF p_token_hashes[i] IS NOT NULL THEN
        SELECT * INTO owner FROM account WHERE account_id = p_accounts[i];
        IF NOT FOUND OR owner.token_hash IS DISTINCT FROM p_token_hashes[i] THEN
          kind := 'bad-token';
          RETURN NEXT;
          CONTINUE;
        ELSIF owner.moved_at IS NOT NULL THEN
          kind := 'moved';
          RETURN NEXT;
          CONTINUE;
        END IF;
      END IF;
      SELECT * INTO box FROM mailbox
       WHERE account_id = p_accounts[i] AND device_id = p_devices[i];
      SELECT e.id INTO earlier FROM envelope e
       WHERE e.account_id = p_accounts[i] AND e.device_id = p_devices[i]
         AND e.client_message_id = p_client_ids[i];
      IF FOUND THEN
        kind := 'duplicate';
        envelope_id := earlier;
      ELSIF box.envelopes >= p_quota THEN
        kind := 'mailbox-full';
      ELSIF total + added + length(p_bodies[i]) > p_max_bytes THEN
        kind := 'storage-full';
      ELSE
        INSERT INTO envelope (account_id, device_id, seq, id, client_message_id, body, received_at)
          VALUES (p_accounts[i], p_devices[i], box.next_seq, p_ids[i], p_client_ids[i],
                  p_bodies[i], p_received[i]);
        UPDATE mailbox SET next_seq = next_seq + 1, envelopes = envelopes + 1,
                           bytes = bytes + length(p_bodies[i])
         WHERE account_id = p_accounts[i] AND device_id = p_devices[i];
        added := added + length(p_bodies[i]);
        kind := 'stored';
        envelope_id := p_ids[i];
      END IF;
      RETURN NEXT;
    END LOOP;
    IF added <> 0 THEN
      UPDATE relay_usage SET bytes = bytes + added WHERE stripe = p_stripe;
    END IF;
  END $$;

  -- The acks of several connections in one call: ack g (1-based) is mailbox
  -- (p_accounts[g], p_devices[g]) and the ids i with p_groups[i] = g. Each ack
  -- is judged alone, as relay_ack judges one: -1 (it deletes nothing) if one of
  -- its ids is another mailbox's, else how many envelopes it removed (an id
  -- two acks of one mailbox share counts for the first). Locks as relay_ack
  -- and the TTL sweep do: envelope rows, then mailbox rows in key order, then
  -- one stripe; commits without waiting for the WAL flush (see relay_ack).
  CREATE FUNCTION relay_ack_batch(p_accounts uuid[], p_devices integer[], p_groups integer[],
                                  p_ids text[], p_stripe integer)
  RETURNS TABLE (g integer, removed integer) LANGUAGE plpgsql AS $$
  DECLARE
    refused integer[];
    box_accounts uuid[];
    box_devices integer[];
    box_counts integer[];
    box_bytes bigint[];
    counts integer[] := array_fill(0, ARRAY[coalesce(array_length(p_accounts, 1), 0)]);
    credited integer[];
    freed bigint := 0;
  BEGIN
    PERFORM set_config('synchronous_commit', 'off', true);
    PERFORM set_config('plan_cache_mode', 'force_generic_plan', true);
    SELECT coalesce(array_agg(DISTINCT t.g), '{}') INTO refused
      FROM unnest(p_groups, p_ids) AS t(g, id) JOIN envelope e ON e.id = t.id
     WHERE e.account_id <> p_accounts[t.g] OR e.device_id <> p_devices[t.g];
    WITH asked AS (
      SELECT min(t.g) AS g, t.id FROM unnest(p_groups, p_ids) AS t(g, id)
       WHERE NOT (t.g = ANY (refused)) GROUP BY t.id),
    gone AS (
      DELETE FROM envelope e USING asked
       WHERE e.id = asked.id AND e.account_id = p_accounts[asked.g]
         AND e.device_id = p_devices[asked.g]
      RETURNING asked.g, e.account_id, e.device_id, length(e.body) AS size),
    boxes AS (
      SELECT account_id, device_id, count(*)::integer AS k, sum(size)::bigint AS b
        FROM gone GROUP BY account_id, device_id)
    SELECT (SELECT array_agg(account_id ORDER BY account_id, device_id) FROM boxes),
           (SELECT array_agg(device_id ORDER BY account_id, device_id) FROM boxes),
           (SELECT array_agg(k ORDER BY account_id, device_id) FROM boxes),
           (SELECT array_agg(b ORDER BY account_id, device_id) FROM boxes),
           (SELECT array_agg(gone.g) FROM gone)
      INTO box_accounts, box_devices, box_counts, box_bytes, credited;
    FOR i IN 1 .. coalesce(array_length(box_accounts, 1), 0) LOOP
      UPDATE mailbox SET envelopes = envelopes - box_counts[i], bytes = bytes - box_bytes[i]
       WHERE account_id = box_accounts[i] AND device_id = box_devices[i];
      freed := freed + box_bytes[i];
    END LOOP;
    IF freed <> 0 THEN
      UPDATE relay_usage SET bytes = bytes - freed WHERE stripe = p_stripe;
    END IF;
    FOR i IN 1 .. coalesce(array_length(credited, 1), 0) LOOP
      counts[credited[i]] := counts[credited[i]] + 1;
    END LOOP;
    FOR i IN 1 .. coalesce(array_length(p_accounts, 1), 0) LOOP
      g := i;
      removed := CASE WHEN i = ANY (refused) THEN -1 ELSE counts[i] END;
      RETURN NEXT;
    END LOOP;
  END $$;
`;
