// Migration 8 of the PostgreSQL relay database (schema.ts runs it): a budget
// lease that survives the sweep deleting its bucket under it
// (docs/relay-operations.md#shared-budgets). Append-only like every migration
// once released.

/** The SQL of migration 8. */
export const LEASE_MIGRATION = `
  -- relay_budget_lease (migration 3) with the same signature and answers,
  -- replaced in place so nodes of the previous release get the fix too. It
  -- created the bucket (INSERT ... ON CONFLICT DO NOTHING) and then locked it
  -- in a second statement: the sweep, which deletes full buckets, could
  -- delete the row in between (or while the lock waited on it), and the lease
  -- answered a NULL remainder (the node's request failed). Now it locks
  -- first and creates the bucket only if there is none, until it holds a row.
  CREATE OR REPLACE FUNCTION relay_budget_lease(p_key text, p_burst double precision,
                                                p_rate double precision, p_need double precision,
                                                p_chunk double precision,
                                                OUT granted double precision,
                                                OUT remaining double precision)
  LANGUAGE plpgsql AS $$
  DECLARE
    t timestamptz := clock_timestamp();
    held double precision;
  BEGIN
    LOOP
      SELECT least(p_burst, b.tokens + p_rate * greatest(0, extract(epoch FROM t - b.at)))
        INTO held FROM relay_budget b WHERE b.key = p_key FOR UPDATE;
      EXIT WHEN FOUND;
      -- A full bucket equals no bucket; a rival's insert wins the conflict, then the next pass locks it.
      INSERT INTO relay_budget VALUES (p_key, p_burst, t, t) ON CONFLICT (key) DO NOTHING;
    END LOOP;
    granted := CASE WHEN held >= p_need THEN least(held, greatest(p_need, p_chunk)) ELSE 0 END;
    remaining := held - granted;
    UPDATE relay_budget SET tokens = remaining, at = t,
      full_at = t + make_interval(secs => CASE WHEN p_rate > 0
                                               THEN (p_burst - remaining) / p_rate
                                               ELSE 315360000 END)
     WHERE key = p_key;
  END $$;
`;
