// Migration 11 of the PostgreSQL relay database (schema.ts runs it): the store
// in fewer statements per envelope (docs/relay-operations.md#what-a-message-costs).
// Append-only like every migration once released.

/** The SQL of migration 11. */
export const LEAN_STORE_MIGRATION = `
  -- relay_store_sequenced (migration 6) with the same signature and answers,
  -- replaced in place, so nodes of the previous release store this way too,
  -- and relay_ack_store, which calls it, as well. It called
  -- relay_store_checked (migration 5, which stays, unchanged) and read each
  -- stored envelope's seq back by its id: six statements per envelope (the
  -- account, the mailbox, the duplicate check, the insert, the counters, the
  -- seq). Now three: the duplicate check; one UPDATE of the mailbox that
  -- takes the seq, bumps the counters and checks the quota and the
  -- relay-wide budget in its WHERE (no row: refused, nothing changed); the
  -- insert. The delivery-token checks of the whole batch are one statement
  -- before the loop. Same rules, same order (token, duplicate, mailbox-full,
  -- storage-full), same locks in the same order (mailbox rows sorted, then
  -- one stripe).
  CREATE OR REPLACE FUNCTION relay_store_sequenced(p_accounts uuid[], p_devices integer[],
                                                   p_client_ids text[], p_bodies bytea[],
                                                   p_received bigint[], p_ids text[],
                                                   p_token_hashes bytea[], p_quota integer,
                                                   p_max_bytes bigint, p_stripe integer)
  RETURNS TABLE (n integer, kind text, envelope_id text, seq bigint) LANGUAGE plpgsql AS $$
  DECLARE
    bad_token bigint[];
    moved bigint[];
    total bigint;
    added bigint := 0;
    size bigint;
    taken bigint;
  BEGIN
    PERFORM set_config('plan_cache_mode', 'force_generic_plan', true);
    -- Positions whose token does not match the committed account row (or
    -- that have no row), and positions of a moved account.
    SELECT coalesce(array_agg(t.i) FILTER (WHERE o.token_hash IS DISTINCT FROM t.h), '{}'),
           coalesce(array_agg(t.i) FILTER (WHERE o.token_hash = t.h AND o.moved_at IS NOT NULL), '{}')
      INTO bad_token, moved
      FROM unnest(p_accounts, p_token_hashes) WITH ORDINALITY AS t(a, h, i)
      LEFT JOIN account o ON o.account_id = t.a
     WHERE t.h IS NOT NULL;
    -- Missing mailboxes created, then all of them locked in key order.
    INSERT INTO mailbox (account_id, device_id)
      SELECT DISTINCT b.a, b.d FROM unnest(p_accounts, p_devices) AS b(a, d) ORDER BY b.a, b.d
      ON CONFLICT (account_id, device_id) DO NOTHING;
    PERFORM 1 FROM mailbox m
     WHERE (m.account_id, m.device_id) IN (SELECT b.a, b.d FROM unnest(p_accounts, p_devices) AS b(a, d))
     ORDER BY m.account_id, m.device_id FOR UPDATE;
    SELECT sum(u.bytes) INTO total FROM relay_usage u;
    FOR i IN 1 .. coalesce(array_length(p_accounts, 1), 0) LOOP
      n := i;
      envelope_id := NULL;
      seq := NULL;
      IF i = ANY (bad_token) THEN
        kind := 'bad-token';
      ELSIF i = ANY (moved) THEN
        kind := 'moved';
      ELSE
        -- A queued envelope with this client message id: its id is the answer.
        envelope_id := (SELECT e.id FROM envelope e
                         WHERE (e.account_id, e.device_id, e.client_message_id)
                             = (p_accounts[i], p_devices[i], p_client_ids[i]));
        IF envelope_id IS NOT NULL THEN
          kind := 'duplicate';
        ELSE
          size := length(p_bodies[i]);
          UPDATE mailbox m SET next_seq = m.next_seq + 1, envelopes = m.envelopes + 1,
                               bytes = m.bytes + size
           WHERE m.account_id = p_accounts[i] AND m.device_id = p_devices[i]
             AND m.envelopes < p_quota AND total + added + size <= p_max_bytes
          RETURNING m.next_seq - 1 INTO taken;
          IF FOUND THEN
            INSERT INTO envelope (account_id, device_id, seq, id, client_message_id, body,
                                  received_at)
              VALUES (p_accounts[i], p_devices[i], taken, p_ids[i], p_client_ids[i], p_bodies[i],
                      p_received[i]);
            added := added + size;
            kind := 'stored';
            envelope_id := p_ids[i];
            seq := taken;
          ELSIF total + added + size <= p_max_bytes THEN
            kind := 'mailbox-full';
          ELSE
            -- Both may hold: the quota is judged first, as before.
            SELECT CASE WHEN m.envelopes >= p_quota THEN 'mailbox-full' ELSE 'storage-full' END
              INTO kind FROM mailbox m
             WHERE m.account_id = p_accounts[i] AND m.device_id = p_devices[i];
          END IF;
        END IF;
      END IF;
      RETURN NEXT;
    END LOOP;
    -- The stripe last, and only if the batch stored something (no row locked otherwise).
    UPDATE relay_usage SET bytes = bytes + added WHERE stripe = p_stripe AND added <> 0;
  END $$;
`;
