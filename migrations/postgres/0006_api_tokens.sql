-- API tokens get an admin flag: an admin token may also redrive dead deliveries and request a
-- crawl or rescan. Same change as migrations/sqlite/0006_api_tokens.sql.
ALTER TABLE api_tokens ADD COLUMN admin BOOLEAN NOT NULL DEFAULT FALSE;

-- Authentication must find a token before it knows the tenant, but api_tokens has forced
-- row-level security keyed on `app.tenant_id`. This second (permissive, SELECT-only) policy
-- makes exactly one row visible: the one whose hash the transaction put in `app.token_hash`.
-- Knowing a token's SHA-256 hash is what authenticating means, so the service role can see no
-- token it could not already present; it cannot list, update or delete tokens this way (those
-- still need the tenant's `app.tenant_id`). NULLIF: an unset or reset setting matches nothing.
CREATE POLICY token_authentication ON api_tokens FOR SELECT
    USING (token_hash = NULLIF(current_setting('app.token_hash', true), ''));
