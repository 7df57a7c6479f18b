-- Up Migration

-- Where a payment step came from: the correlation id of the request that placed the order and
-- the event that started the step. The payment worker's commands carry them into the events
-- they append (and its log lines), as the saga's other commands do. Steps started before this
-- migration have none; the worker then uses the order id, as it did before.
ALTER TABLE order_sagas ADD COLUMN correlation_id text, ADD COLUMN causation_id text;

-- Down Migration
ALTER TABLE order_sagas DROP COLUMN correlation_id, DROP COLUMN causation_id;
