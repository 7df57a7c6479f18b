-- Up Migration

-- The payment simulator's books: what a real gateway keeps on its own servers. They live in
-- the write store so that every process-manager replica and every restart sees the same
-- authorizations (capture and refund after a restart find them) and the same idempotency
-- keys (two process managers authorizing one order charge it once). A real gateway adapter
-- never touches these tables.
CREATE TABLE payment_simulator_requests (
  idempotency_key  text PRIMARY KEY,
  operation        text NOT NULL,            -- authorize | capture | refund
  fingerprint      text NOT NULL,            -- the request a reused key must repeat
  order_id         text,
  failures         integer NOT NULL DEFAULT 0, -- tok_flaky's "unavailable" answers so far
  result           jsonb,                    -- the answer every retry gets; NULL until decided
  decided_at       timestamptz
);
CREATE INDEX payment_simulator_requests_order ON payment_simulator_requests (order_id);

CREATE TABLE payment_simulator_authorizations (
  authorization_id text PRIMARY KEY,
  order_id         text NOT NULL,
  amount           bigint NOT NULL,
  currency         text NOT NULL,
  captured         bigint NOT NULL DEFAULT 0,
  refunded         bigint NOT NULL DEFAULT 0,
  created_at       timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX payment_simulator_authorizations_order ON payment_simulator_authorizations (order_id);

-- Every call received, answered or not (the attempts a test or an operator can count).
CREATE TABLE payment_simulator_calls (
  id               bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  operation        text NOT NULL,
  idempotency_key  text NOT NULL,
  order_id         text,
  received_at      timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX payment_simulator_calls_order ON payment_simulator_calls (order_id);

-- Down Migration
DROP TABLE payment_simulator_calls;
DROP TABLE payment_simulator_authorizations;
DROP TABLE payment_simulator_requests;
