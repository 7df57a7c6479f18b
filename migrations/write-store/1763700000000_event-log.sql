-- Up Migration

-- The event log: the source of truth. position is the global sequence value;
-- tx_id is the appending transaction, which the relay uses to read in commit order.
CREATE TABLE events (
  position        bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  tx_id           xid8 NOT NULL DEFAULT pg_current_xact_id(),
  event_id        uuid NOT NULL UNIQUE,
  stream_id       text NOT NULL,
  stream_type     text NOT NULL,
  stream_version  integer NOT NULL,
  event_type      text NOT NULL,
  schema_version  integer NOT NULL,
  data            jsonb NOT NULL,
  metadata        jsonb NOT NULL,
  recorded_at     timestamptz NOT NULL DEFAULT clock_timestamp(),
  UNIQUE (stream_id, stream_version)
);
CREATE INDEX events_relay_order ON events (tx_id, position);

-- One row per stream: the optimistic lock. An append bumps version only if it
-- still equals the version the command was decided against.
CREATE TABLE streams (
  stream_id    text PRIMARY KEY,
  stream_type  text NOT NULL,
  version      integer NOT NULL
);

-- A retried command with the same key gets the first answer back.
CREATE TABLE idempotency_keys (
  scope         text NOT NULL,
  key           text NOT NULL,
  request_hash  text NOT NULL,
  response      jsonb NOT NULL,
  created_at    timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (scope, key)
);

-- Where the relay has published up to, per namespace (for status; JetStream's
-- own last message is what the relay trusts on start-up).
CREATE TABLE relay_checkpoints (
  namespace    text PRIMARY KEY,
  tx_id        xid8 NOT NULL,
  position     bigint NOT NULL,
  updated_at   timestamptz NOT NULL DEFAULT now()
);

-- Down Migration
DROP TABLE relay_checkpoints;
DROP TABLE idempotency_keys;
DROP TABLE streams;
DROP TABLE events;
