-- Up Migration

-- Leases of work with one owner at a time (a projection, a replica's membership), in the
-- read store so that a commit can check its writer's lease in the same statement (fencing).
-- Times come from this server's clock only, so replicas' clocks need not agree.
CREATE TABLE view_leases (
  name         text COLLATE "C" PRIMARY KEY,
  owner        text NOT NULL,
  token        bigint NOT NULL,
  acquired_at  timestamptz NOT NULL,
  renewed_at   timestamptz NOT NULL,
  expires_at   timestamptz NOT NULL
);

-- Down Migration
DROP TABLE view_leases;
