#!/usr/bin/env bash
# A throwaway PostgreSQL on loopback for the store's contract tests.
#
#   eval "$(scripts/services/postgres.sh start)"   # prints export lines, progress on stderr
#   scripts/services/postgres.sh stop "$ECOWATCH_PG_DIR"
#
# start: finds initdb/pg_ctl under /usr/lib/postgresql/*/bin (installing Debian's `postgresql`
# package when missing and running as root), creates a cluster in a fresh temp directory, starts
# it on 127.0.0.1 with a free port and its socket inside that directory, and creates
#   ecowatch_owner  owns the database and the tables, runs migrations, may create test databases
#   ecowatch_app    the service's role: NOSUPERUSER NOBYPASSRLS, owns nothing, gets
#                   SELECT/INSERT/UPDATE/DELETE on tables through ALTER DEFAULT PRIVILEGES
# and prints ECOWATCH_TEST_POSTGRES_URL (app), ECOWATCH_TEST_POSTGRES_OWNER_URL and ECOWATCH_PG_DIR.
# stop: stops that cluster and removes its directory.
set -euo pipefail

log() { echo "postgres.sh: $*" >&2; }
die() { log "$*"; exit 1; }

find_bindir() {
    local dir
    for dir in $(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V -r); do
        if [[ -x $dir/initdb && -x $dir/pg_ctl ]]; then
            echo "$dir"
            return 0
        fi
    done
    return 1
}

# Runs a command as the cluster's OS user: initdb refuses to run as root.
as_pg() {
    if [[ $EUID -eq 0 ]]; then
        runuser -u postgres -- "$@"
    else
        "$@"
    fi
}

port_in_use() {
    (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null
}

random_password() {
    od -An -tx1 -N16 /dev/urandom | tr -d ' \n'
}

start() {
    local bindir
    if ! bindir=$(find_bindir); then
        [[ $EUID -eq 0 ]] || die "PostgreSQL is not installed; install Debian's 'postgresql' package (needs root)"
        log "installing PostgreSQL (apt-get install postgresql)"
        apt-get update -qq >&2
        DEBIAN_FRONTEND=noninteractive apt-get install -y -qq postgresql >&2
        bindir=$(find_bindir) || die "postgresql installed, but no initdb under /usr/lib/postgresql/*/bin"
    fi
    if [[ $EUID -eq 0 ]] && ! id postgres >/dev/null 2>&1; then
        die "no 'postgres' OS user to run the server as (initdb refuses root)"
    fi

    local dir
    dir=$(mktemp -d /tmp/ecowatch-pg.XXXXXX)
    [[ $EUID -eq 0 ]] && chown postgres: "$dir"
    chmod 700 "$dir"
    # A start that fails half way leaves no server and no directory behind.
    trap "stop '$dir' || true" EXIT

    local owner_pw app_pw pwfile
    owner_pw=$(random_password)
    app_pw=$(random_password)
    pwfile="$dir/superuser.pw"
    random_password >"$pwfile"
    [[ $EUID -eq 0 ]] && chown postgres: "$pwfile"

    log "initdb in $dir ($bindir)"
    # Loopback TCP needs passwords; the socket lives in $dir (mode 700), so only its owner reaches it.
    as_pg "$bindir/initdb" -D "$dir/data" -U postgres --pwfile="$pwfile" \
        --auth-host=scram-sha-256 --auth-local=trust -E UTF8 --locale=C.UTF-8 >"$dir/initdb.log" 2>&1 \
        || { cat "$dir/initdb.log" >&2; die "initdb failed"; }

    local port=${ECOWATCH_PG_PORT:-55432} tries=0
    while :; do
        if ! port_in_use "$port"; then
            # Throwaway data: durability off for speed; plenty of connections for parallel tests.
            if as_pg "$bindir/pg_ctl" -D "$dir/data" -l "$dir/server.log" -w -t 60 start \
                -o "-c listen_addresses=127.0.0.1 -c port=$port -c unix_socket_directories=$dir \
                    -c fsync=off -c synchronous_commit=off -c full_page_writes=off \
                    -c max_connections=300" >&2; then
                break
            fi
        fi
        tries=$((tries + 1))
        [[ $tries -lt 20 ]] || { cat "$dir/server.log" >&2 || true; die "could not start PostgreSQL on any port"; }
        port=$((port + 1))
    done
    log "PostgreSQL listening on 127.0.0.1:$port"

    as_pg "$bindir/psql" -X -q -v ON_ERROR_STOP=1 -h "$dir" -p "$port" -U postgres -d postgres >&2 <<SQL
CREATE ROLE ecowatch_owner LOGIN PASSWORD '$owner_pw' NOSUPERUSER NOBYPASSRLS CREATEDB;
CREATE ROLE ecowatch_app LOGIN PASSWORD '$app_pw' NOSUPERUSER NOBYPASSRLS NOCREATEDB NOCREATEROLE;
CREATE DATABASE ecowatch OWNER ecowatch_owner;
\connect ecowatch
ALTER DEFAULT PRIVILEGES FOR ROLE ecowatch_owner IN SCHEMA public
    GRANT SELECT, INSERT, UPDATE, DELETE ON TABLES TO ecowatch_app;
ALTER DEFAULT PRIVILEGES FOR ROLE ecowatch_owner IN SCHEMA public
    GRANT USAGE, SELECT ON SEQUENCES TO ecowatch_app;
SQL

    trap - EXIT
    echo "export ECOWATCH_PG_DIR='$dir'"
    echo "export ECOWATCH_TEST_POSTGRES_URL='postgres://ecowatch_app:$app_pw@127.0.0.1:$port/ecowatch'"
    echo "export ECOWATCH_TEST_POSTGRES_OWNER_URL='postgres://ecowatch_owner:$owner_pw@127.0.0.1:$port/ecowatch'"
}

stop() {
    local dir=${1:-${ECOWATCH_PG_DIR:-}}
    [[ -n $dir ]] || die "usage: $0 stop DIR (the ECOWATCH_PG_DIR that start printed)"
    [[ $dir == /tmp/ecowatch-pg.* && -d $dir ]] || { log "nothing to stop at '$dir'"; return 0; }
    local bindir
    if bindir=$(find_bindir) && [[ -f $dir/data/postmaster.pid ]]; then
        as_pg "$bindir/pg_ctl" -D "$dir/data" -m immediate -w stop >&2 || log "pg_ctl stop failed"
    fi
    rm -rf -- "$dir"
    log "stopped and removed $dir"
}

case ${1:-} in
    start) start ;;
    stop) stop "${2:-}" ;;
    *) die "usage: $0 start | stop DIR" ;;
esac
