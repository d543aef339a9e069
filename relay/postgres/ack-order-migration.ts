// Migration 10 of the PostgreSQL relay database (schema.ts runs it): acks
// lock the envelope rows they delete in one total order, so two nodes' ack
// calls that share envelopes cannot wait on each other in a cycle
// (docs/relay-operations.md#postgresql-schema). Append-only like every
// migration once released.

/** The SQL of migration 10. */
export const ACK_ORDER_MIGRATION = `
  -- relay_ack_batch (migration 5) and relay_ack_store (migration 7) deleted
  -- their envelope rows in whatever order the plan of their DELETE visited the
  -- ids, and a call holds each row it deleted until it commits. Two calls
  -- with envelopes in common (one device connected to two nodes after a
  -- reconnect, both connections acking what both were pushed) could each
  -- hold a row the other was about to delete; PostgreSQL then rolled one
  -- back after deadlock_timeout. Each keeps its name, signature and answers
  -- (so nodes of the previous release get the order too) and becomes a
  -- wrapper that first locks every envelope row its ids name, in id order,
  -- then runs the old body (renamed, unchanged), which finds its rows locked
  -- already. Rows of a refused (hostile) ack are locked too, until the call
  -- commits, and are not deleted.
  -- Renamed only once: a database rolled back to an earlier version by hand
  -- (the migration tests do) runs this again over its own result.
  DO $rename$ BEGIN
    IF to_regproc('relay_ack_batch_unordered') IS NULL THEN
      ALTER FUNCTION relay_ack_batch(uuid[], integer[], integer[], text[], integer)
        RENAME TO relay_ack_batch_unordered;
      ALTER FUNCTION relay_ack_store(uuid[], integer[], integer[], text[], uuid[], integer[],
                                     text[], bytea[], bigint[], text[], bytea[], integer, bigint,
                                     integer)
        RENAME TO relay_ack_store_unordered;
    END IF;
  END $rename$;
  -- Positional parameters: the signatures are migration 5's and 7's.
  CREATE OR REPLACE FUNCTION relay_ack_batch(uuid[], integer[], integer[], text[], integer)
  RETURNS TABLE (g integer, removed integer) LANGUAGE plpgsql AS $$
  BEGIN
    PERFORM 1 FROM envelope WHERE id = ANY ($4) ORDER BY id FOR UPDATE;
    RETURN QUERY SELECT * FROM relay_ack_batch_unordered($1, $2, $3, $4, $5);
  END $$;

  CREATE OR REPLACE FUNCTION relay_ack_store(uuid[], integer[], integer[], text[], uuid[],
                                             integer[], text[], bytea[], bigint[], text[], bytea[],
                                             integer, bigint, integer)
  RETURNS TABLE (n integer, kind text, envelope_id text, seq bigint, removed integer)
  LANGUAGE plpgsql AS $$
  BEGIN
    PERFORM 1 FROM envelope WHERE id = ANY ($4) ORDER BY id FOR UPDATE;
    RETURN QUERY SELECT * FROM relay_ack_store_unordered($1, $2, $3, $4, $5, $6, $7, $8, $9,
                                                         $10, $11, $12, $13, $14);
  END $$;
`;
