-- Up Migration

-- Aggregate state snapshots: one per stream, the state folded from its first stream_version
-- events by a decider whose snapshot schema is snapshot_version. A load reads it and the events
-- after it; a snapshot of another snapshot_version is ignored and, in time, replaced.
-- last_*: the stream's last event at stream_version, which a no-op command's answer names.
CREATE TABLE snapshots (
  stream_id         text PRIMARY KEY,
  snapshot_version  integer NOT NULL,
  stream_version    integer NOT NULL,
  state             jsonb NOT NULL,
  last_tx_id        xid8 NOT NULL,
  last_position     bigint NOT NULL,
  last_recorded_at  timestamptz NOT NULL,
  taken_at          timestamptz NOT NULL DEFAULT now()
);

-- Down Migration
DROP TABLE snapshots;
