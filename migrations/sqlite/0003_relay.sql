-- The relay's fencing token: incremented on every claim, so a worker whose lease expired (and
-- whose row another worker claimed since) cannot record an outcome over the newer claim.
ALTER TABLE deliveries ADD COLUMN fence INTEGER NOT NULL DEFAULT 0;
