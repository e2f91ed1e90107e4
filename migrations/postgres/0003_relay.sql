-- The relay's fencing token: incremented on every claim, so a worker whose lease expired (and
-- whose row another worker claimed since) cannot record an outcome over the newer claim.
-- Same change as migrations/sqlite/0003_relay.sql.
ALTER TABLE deliveries ADD COLUMN fence BIGINT NOT NULL DEFAULT 0;
