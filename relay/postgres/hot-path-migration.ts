// Migration 4 of the PostgreSQL relay database (schema.ts runs it): a
// message's hot path in one statement each, and the usage stripes split
// between stores and releases (docs/relay-operations.md#what-a-message-costs).
// Append-only like every migration once released.

/**
 * Since migration 4, stores add to stripes 0…47 and acks and sweeps take off
 * 48…63: an ack, which commits without a WAL flush, never queues behind a
 * store that holds its stripe through a flush, and stores meet each other a
 * third as often.
 */
export const STORE_STRIPES = { first: 0, count: 48 } as const;
export const RELEASE_STRIPES = { first: 48, count: 16 } as const;

/** The SQL of migration 4. */
export const HOT_PATH_MIGRATION = `
  -- A message's hot path in one statement each (docs/relay-operations.md#what-a-message-costs):
  -- a round trip and a parse cost PostgreSQL more CPU than the work, so a batch
  -- of stores and an ack are each one function call in its own autocommit
  -- transaction. A store locks mailbox rows (sorted), then inserts; an ack
  -- deletes envelope rows, then updates their mailbox; both take one
  -- relay_usage stripe last. relay_store stays for nodes of the
  -- previous release during a rolling upgrade.

  -- More stripes (STORE_STRIPES, RELEASE_STRIPES): migration 1 made 0…15.
  INSERT INTO relay_usage SELECT s, 0 FROM generate_series(16, ${RELEASE_STRIPES.first + RELEASE_STRIPES.count - 1}) AS s;

  -- Stores a batch: creates and locks its mailboxes, reads the relay-wide total
  -- once, then each envelope in input order (n = its 1-based position) is
  -- stored, a duplicate of a queued one, or refused; the stored bytes go to
  -- stripe p_stripe.
  CREATE FUNCTION relay_store_batch(p_accounts uuid[], p_devices integer[], p_client_ids text[],
                                    p_bodies bytea[], p_received bigint[], p_ids text[],
                                    p_quota integer, p_max_bytes bigint, p_stripe integer)
  RETURNS TABLE (n integer, kind text, envelope_id text) LANGUAGE plpgsql AS $$
  DECLARE
    box mailbox%ROWTYPE;
    earlier text;
    total bigint;
    added bigint := 0;
  BEGIN
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
        envelope_id := NULL;
      ELSIF total + added + length(p_bodies[i]) > p_max_bytes THEN
        kind := 'storage-full';
        envelope_id := NULL;
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

  -- Deletes acked envelopes of one mailbox: -1 (nothing deleted) if any id is
  -- another mailbox's, else how many it removed. Commits without waiting for
  -- the WAL flush: an ack lost to a PostgreSQL crash only redelivers, and the
  -- client drops the duplicate (R3), while the wait was half of a message's fsyncs.
  CREATE FUNCTION relay_ack(p_account uuid, p_device integer, p_ids text[], p_stripe integer)
  RETURNS integer LANGUAGE plpgsql AS $$
  DECLARE
    removed integer;
    freed bigint;
  BEGIN
    PERFORM set_config('synchronous_commit', 'off', true);
    IF EXISTS (SELECT 1 FROM envelope WHERE id = ANY (p_ids)
                AND (account_id <> p_account OR device_id <> p_device)) THEN
      RETURN -1;
    END IF;
    -- Envelope rows, then the mailbox row: the TTL sweep's order, so the two
    -- never wait on each other in a cycle (a store never waits on an envelope
    -- being deleted: it reads it as a duplicate instead).
    WITH gone AS (
      DELETE FROM envelope
       WHERE id = ANY (p_ids) AND account_id = p_account AND device_id = p_device
      RETURNING length(body) AS size)
    SELECT count(*), coalesce(sum(size), 0) INTO removed, freed FROM gone;
    IF removed > 0 THEN
      UPDATE mailbox SET envelopes = envelopes - removed, bytes = bytes - freed
       WHERE account_id = p_account AND device_id = p_device;
      UPDATE relay_usage SET bytes = bytes - freed WHERE stripe = p_stripe;
    END IF;
    RETURN removed;
  END $$;
`;
