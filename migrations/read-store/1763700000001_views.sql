-- Up Migration

-- View collections are tables named view_<collection>, created by the store's
-- ensureCollection from each view's schema; only the fixed tables live here.
-- Text that is compared or sorted uses COLLATE "C": byte order, as MongoDB compares.

-- Each view's declared fields, so that every process (the query API too) can check
-- and type queries; renamed along with the view's table.
CREATE TABLE view_schemas (
  collection  text COLLATE "C" PRIMARY KEY,
  fields      jsonb NOT NULL
);

-- Where each projection has applied up to, written in the transaction of the view
-- changes it covers so that a crash cannot separate them.
CREATE TABLE projection_checkpoints (
  projection         text COLLATE "C" PRIMARY KEY,
  order_key          text COLLATE "C" NOT NULL,
  position           bigint NOT NULL,
  event_recorded_at  timestamptz,
  pending            integer NOT NULL,
  updated_at         timestamptz NOT NULL
);

-- Events a projection gave up on after repeated failures, kept for listing and replay.
CREATE TABLE dead_letters (
  projection  text COLLATE "C" NOT NULL,
  event_id    text COLLATE "C" NOT NULL,
  order_key   text COLLATE "C" NOT NULL,
  event       jsonb NOT NULL,
  error       text NOT NULL,
  attempts    integer NOT NULL,
  failed_at   timestamptz NOT NULL,
  PRIMARY KEY (projection, event_id)
);

-- Down Migration
DROP TABLE dead_letters;
DROP TABLE projection_checkpoints;
DROP TABLE view_schemas;
