-- The service's role for compose.yaml: no superuser, no BYPASSRLS, owns nothing; it gets
-- read/write on the tables the owner (ecowatch_owner, POSTGRES_USER) creates.
CREATE ROLE ecowatch_app LOGIN PASSWORD 'app-password' NOSUPERUSER NOBYPASSRLS;
GRANT CONNECT ON DATABASE ecowatch TO ecowatch_app;
GRANT USAGE ON SCHEMA public TO ecowatch_app;
ALTER DEFAULT PRIVILEGES FOR ROLE ecowatch_owner IN SCHEMA public
    GRANT SELECT, INSERT, UPDATE, DELETE ON TABLES TO ecowatch_app;
ALTER DEFAULT PRIVILEGES FOR ROLE ecowatch_owner IN SCHEMA public
    GRANT USAGE, SELECT ON SEQUENCES TO ecowatch_app;
