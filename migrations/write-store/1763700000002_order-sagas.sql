-- Up Migration

-- The order saga's persisted state: which orders await a payment authorization and until
-- when. Deadlines live here, not in memory, so they fire after a restart too.
CREATE TABLE order_sagas (
  order_id         text PRIMARY KEY,
  status           text NOT NULL,            -- authorizing | authorized | declined | timed_out | abandoned
  payment_token    text NOT NULL,
  amount           jsonb NOT NULL,
  deadline         timestamptz NOT NULL,
  next_attempt_at  timestamptz NOT NULL,
  attempts         integer NOT NULL DEFAULT 0,
  last_error       text,
  updated_at       timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX order_sagas_due ON order_sagas (next_attempt_at) WHERE status = 'authorizing';

-- Down Migration
DROP TABLE order_sagas;
