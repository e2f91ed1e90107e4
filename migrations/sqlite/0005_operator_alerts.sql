-- Operator alerts sent by `serve` (a source failing for too long, dead letters): one row per
-- condition per day, so several replicas send one alert between them.
CREATE TABLE operator_alerts (
    condition TEXT NOT NULL,
    day       TEXT NOT NULL,
    sent_at   TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ', 'now')),
    PRIMARY KEY (condition, day)
) STRICT;
