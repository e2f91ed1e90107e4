-- A crawl tick fans out into parts, one per source, so every replica can take a share of the
-- work: each part is claimed under a lease (fenced by its token, like schedule_ticks), and a
-- part already done stays done when the tick is taken over. Shared, not tenant data.
CREATE TABLE crawl_parts (
    id          INTEGER PRIMARY KEY,
    tick_id     INTEGER NOT NULL REFERENCES schedule_ticks (id) ON DELETE CASCADE,
    part        TEXT NOT NULL CHECK (length(part) BETWEEN 1 AND 100),
    status      TEXT NOT NULL DEFAULT 'pending'
                CHECK (status IN ('pending', 'running', 'done', 'failed')),
    lease_token TEXT,
    lease_until TEXT,
    -- The replica that ran (or runs) it, and how often it was claimed: what an operator reads.
    worker      TEXT,
    claims      INTEGER NOT NULL DEFAULT 0,
    summary     TEXT,
    finished_at TEXT,
    UNIQUE (tick_id, part)
) STRICT;

CREATE INDEX crawl_parts_claimable ON crawl_parts (tick_id) WHERE status IN ('pending', 'running');
