-- Up Migration

-- The append marker: every transaction that writes the event log holds a shared advisory
-- lock from before it takes its transaction id until it has ended. The relay's horizon
-- (event_log_horizon) waits only for transactions holding it, so a transaction in another
-- database or on another table never holds publishing back.
CREATE FUNCTION take_append_marker() RETURNS void LANGUAGE plpgsql AS $$
BEGIN
  IF current_setting('converge.append_marker', true) IS DISTINCT FROM 'held' THEN
    -- A transaction id taken before the marker could be passed by the relay unseen.
    IF pg_current_xact_id_if_assigned() IS NOT NULL THEN
      RAISE EXCEPTION 'a transaction that writes the event log must take the append marker (SELECT take_append_marker()) before its first write'
        USING ERRCODE = 'object_not_in_prerequisite_state';
    END IF;
    PERFORM pg_advisory_xact_lock_shared(hashtext('converge-append-marker'), 0), set_config('converge.append_marker', 'held', true);
  END IF;
END $$;

-- take_append_marker() inlined: a trigger runs on every append, a nested call would cost one more SPI round.
CREATE FUNCTION append_marker_trigger() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  IF current_setting('converge.append_marker', true) IS DISTINCT FROM 'held' THEN
    IF pg_current_xact_id_if_assigned() IS NOT NULL THEN
      RAISE EXCEPTION 'a transaction that writes the event log must take the append marker (SELECT take_append_marker()) before its first write'
        USING ERRCODE = 'object_not_in_prerequisite_state';
    END IF;
    PERFORM pg_advisory_xact_lock_shared(hashtext('converge-append-marker'), 0), set_config('converge.append_marker', 'held', true);
  END IF;
  RETURN NULL;
END $$;

-- Statement-level and BEFORE: the marker is taken before the statement's first row is written,
-- so any writer of events or streams (raw SQL included) takes it before its transaction id.
-- WHEN skips the function call once the transaction holds the marker (most appends' second trigger).
CREATE TRIGGER events_append_marker BEFORE INSERT ON events FOR EACH STATEMENT
  WHEN (current_setting('converge.append_marker', true) IS DISTINCT FROM 'held')
  EXECUTE FUNCTION append_marker_trigger();
CREATE TRIGGER streams_append_marker BEFORE INSERT OR UPDATE ON streams FOR EACH STATEMENT
  WHEN (current_setting('converge.append_marker', true) IS DISTINCT FROM 'held')
  EXECUTE FUNCTION append_marker_trigger();

-- Every event of a transaction below the horizon is final: committed and visible to the next
-- statement, or rolled back. Must run as a statement of its own, before the read that uses it:
-- an appender still running then held the marker throughout, so it is counted here.
CREATE FUNCTION event_log_horizon() RETURNS xid8 LANGUAGE sql VOLATILE AS $$
  WITH snapshot AS (SELECT pg_current_snapshot() AS s),
  appenders AS (
    SELECT activity.backend_xid::text::bigint AS xid32
      FROM pg_locks l CROSS JOIN LATERAL pg_stat_get_activity(l.pid) AS activity
     WHERE l.locktype = 'advisory'
       AND l.database = (SELECT oid FROM pg_database WHERE datname = current_database())
       AND l.classid = hashtext('converge-append-marker')::oid AND l.objid = 0 AND l.objsubid = 2
       AND activity.backend_xid IS NOT NULL
  )
  -- backend_xid is 32 bits; the snapshot's running transactions give their 64-bit ids.
  SELECT least(
    pg_snapshot_xmax(s),
    (SELECT min(x) FROM pg_snapshot_xip(s) AS x WHERE x::text::bigint % 4294967296 IN (SELECT xid32 FROM appenders))
  ) FROM snapshot
$$;

-- Down Migration
DROP FUNCTION event_log_horizon();
DROP TRIGGER streams_append_marker ON streams;
DROP TRIGGER events_append_marker ON events;
DROP FUNCTION append_marker_trigger();
DROP FUNCTION take_append_marker();
