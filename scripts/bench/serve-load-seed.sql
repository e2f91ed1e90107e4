-- Seed data for scripts/bench/serve-load.sh: :tenants tenants named bench-0001.. with one watched
-- repository each and :findings findings per tenant, shaped like a scan's (rule, severity,
-- path, line, details). Run as the owner role AFTER ecowatch has migrated the database:
--
--   psql "$OWNER_URL" -v tenants=100 -v findings=1000 -f scripts/bench/serve-load-seed.sql
--
-- Row-level security is forced on tenant tables, for the owner too, so each tenant's rows are
-- inserted with that tenant's app.tenant_id set, exactly like the service writes them.
\set ON_ERROR_STOP on

INSERT INTO tenants (name)
SELECT format('bench-%s', lpad(n::text, 4, '0')) FROM generate_series(1, :tenants) AS n
ON CONFLICT (name) DO NOTHING;

CREATE TEMP TABLE bench_params AS SELECT :findings::int AS findings;

DO $$
DECLARE
    t RECORD;
    repo BIGINT;
    per_tenant INT := (SELECT findings FROM bench_params);
    added BIGINT;
    seeded BIGINT := 0;
BEGIN
    FOR t IN SELECT id, name FROM tenants WHERE name LIKE 'bench-%' ORDER BY id LOOP
        PERFORM set_config('app.tenant_id', t.id::text, true);
        INSERT INTO watched_repos (tenant_id, url, name, default_branch)
        VALUES (t.id, format('https://git.example/%s/app', t.name), 'app', 'main')
        ON CONFLICT (tenant_id, url) DO NOTHING;
        SELECT id INTO repo FROM watched_repos WHERE tenant_id = t.id AND name = 'app';
        INSERT INTO findings (tenant_id, repo_id, fingerprint, rule_id, severity, title, path,
                              line, first_seen, last_seen, status, details)
        SELECT t.id, repo, md5(t.name || ':' || n),
               (ARRAY['advisory', 'deprecated', 'eol-runtime', 'pattern'])[1 + n % 4],
               (ARRAY['info', 'low', 'medium', 'high', 'critical'])[1 + n % 5],
               format('lodash %s.0.%s has a prototype pollution advisory (GHSA-bench-%s)',
                      n % 5, n % 21, n),
               format('services/svc-%s/package-lock.json', n % 37), 1 + n % 900,
               now() - make_interval(days => n % 90), now(),
               (ARRAY['new', 'open', 'open', 'fixed'])[1 + n % 4],
               jsonb_build_object('package', 'lodash', 'ecosystem', 'npm',
                                  'version', format('4.17.%s', n % 21),
                                  'advisory', format('GHSA-bench-%s', n))
        FROM generate_series(1, per_tenant) AS n
        ON CONFLICT (tenant_id, repo_id, fingerprint) DO NOTHING;
        GET DIAGNOSTICS added = ROW_COUNT;
        seeded := seeded + added;
    END LOOP;
    -- The owner cannot count across tenants afterwards (forced row-level security).
    RAISE NOTICE 'findings seeded: %', seeded;
END
$$;

SELECT count(*) AS bench_tenants FROM tenants WHERE name LIKE 'bench-%';
