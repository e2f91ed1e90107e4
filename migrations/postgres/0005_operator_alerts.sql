-- Operator alerts sent by `serve` (a source failing for too long, dead letters): one row per
-- condition per day, so several replicas send one alert between them. Shared, no tenant.
CREATE TABLE operator_alerts (
    condition TEXT NOT NULL,
    day       TEXT NOT NULL,
    sent_at   TIMESTAMPTZ NOT NULL DEFAULT now(),
    PRIMARY KEY (condition, day)
);
