-- Webhook subscriptions: an endpoint that answered 410 Gone is disabled (never sent to again,
-- and listed as such), and a signed JSON webhook keeps its Standard Webhooks secret here, out
-- of the filter JSON that listings and the API show.
ALTER TABLE subscriptions ADD COLUMN disabled_at TEXT;
ALTER TABLE subscriptions ADD COLUMN disabled_reason TEXT;
ALTER TABLE subscriptions ADD COLUMN signing_secret TEXT;
