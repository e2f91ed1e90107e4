-- API tokens get an admin flag: an admin token may also redrive dead deliveries and request a
-- crawl or rescan. Same change as migrations/postgres/0006_api_tokens.sql (which also adds the
-- row-level security policy that lets authentication find a token by its hash).
ALTER TABLE api_tokens ADD COLUMN admin INTEGER NOT NULL DEFAULT 0 CHECK (admin IN (0, 1));
