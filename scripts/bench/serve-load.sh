#!/usr/bin/env bash
# Load benchmark for `ecowatch serve` (issue 6, "Load"): GET /api/v1/findings?limit=100 with a
# random tenant's bearer token per request, at a fixed rate, against 1 and then 3 replicas
# sharing one PostgreSQL; prints throughput and p50/p99 latency side by side.
#
#   scripts/bench/serve-load.sh
#
# Knobs (environment): BENCH_RATE (total requests/s, default 500), BENCH_SECS (per setup, 20),
# BENCH_TENANTS (100), BENCH_FINDINGS (per tenant, 1000), BENCH_CONNECTIONS (per wrk process,
# 32), ECOWATCH_BIN (skip the release build and use this binary).
#
# What it does: builds ecowatch in release mode, starts a throwaway PostgreSQL
# (scripts/services/postgres.sh), lets ecowatch migrate it, seeds tenants × findings with SQL
# (scripts/bench/serve-load-seed.sql), creates one API token per tenant with `ecowatch tokens
# create`, then runs Debian's `wrk` (installed with apt-get when missing and root) with
# scripts/bench/serve-load.lua: one wrk per replica, the rate split evenly. All schedules are
# off, so the replicas only answer the API. Everything it started is stopped on exit.
#
# This is a benchmark, not a test: figures depend on the machine and what else runs on it.
# The load generator runs on the same machine and takes CPU from the server.
set -euo pipefail

root=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
rate=${BENCH_RATE:-500}
secs=${BENCH_SECS:-20}
tenants=${BENCH_TENANTS:-100}
findings=${BENCH_FINDINGS:-1000}
connections=${BENCH_CONNECTIONS:-32}
threads=1

log() { echo "serve-load: $*" >&2; }
die() { log "$*"; exit 1; }

work=$(mktemp -d /tmp/ecowatch-load.XXXXXX)
server_pids=()
pg_dir=""
cleanup() {
    local pid
    for pid in "${server_pids[@]}"; do
        kill -TERM "$pid" 2>/dev/null || true
    done
    for pid in "${server_pids[@]}"; do
        wait "$pid" 2>/dev/null || true
    done
    if [[ -n $pg_dir ]]; then
        "$root/scripts/services/postgres.sh" stop "$pg_dir" >/dev/null 2>&1 || true
    fi
    rm -rf "$work"
}
trap cleanup EXIT

# ---------------------------------------------------------------- tools and binary

if ! command -v wrk >/dev/null; then
    [[ $EUID -eq 0 ]] || die "wrk is not installed; install Debian's 'wrk' package (needs root)"
    log "installing wrk (apt-get install wrk)"
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq wrk >&2
fi
command -v psql >/dev/null || die "psql is missing (Debian's postgresql-client)"

if [[ -n ${ECOWATCH_BIN:-} ]]; then
    bin=$ECOWATCH_BIN
else
    log "building ecowatch (cargo build --release; slow the first time)"
    (cd "$root" && cargo build --release --quiet --bin ecowatch)
    bin="$root/target/release/ecowatch"
fi
[[ -x $bin ]] || die "no ecowatch binary at $bin"

# ---------------------------------------------------------------- database and data

eval "$("$root/scripts/services/postgres.sh" start)"
pg_dir=$ECOWATCH_PG_DIR
export ECOWATCH_DATABASE_URL=$ECOWATCH_TEST_POSTGRES_URL
export ECOWATCH_DATABASE_OWNER_URL=$ECOWATCH_TEST_POSTGRES_OWNER_URL
# No SMTP: nothing is sent, and serve's notice about it is expected.
unset ECOWATCH_SMTP_URL

log "migrating (first token) and seeding $tenants tenants × $findings findings"
first_tenant=$(printf 'bench-%04d' 1)
"$bin" tokens create --tenant "$first_tenant" --name load >/dev/null 2>"$work/tokens.log" \
    || { cat "$work/tokens.log" >&2; die "ecowatch tokens create failed"; }
seed_start=$(date +%s)
psql "$ECOWATCH_DATABASE_OWNER_URL" -q -X -v tenants="$tenants" -v findings="$findings" \
    -f "$root/scripts/bench/serve-load-seed.sql" >"$work/seed.log" 2>&1 \
    || { cat "$work/seed.log" >&2; die "seeding failed"; }
log "seeded in $(($(date +%s) - seed_start)) s: $(grep -o 'findings seeded: [0-9]*' "$work/seed.log" || true)"
psql "$ECOWATCH_DATABASE_OWNER_URL" -q -X -c "ANALYZE tenants, watched_repos, findings, api_tokens" >/dev/null

# The token made while migrating was printed to /dev/null; every tenant gets a fresh one here.
tokens="$work/tokens.txt"
: >"$tokens"
for n in $(seq 1 "$tenants"); do
    "$bin" tokens create --tenant "$(printf 'bench-%04d' "$n")" --name load \
        >>"$tokens" 2>"$work/tokens.log" \
        || { cat "$work/tokens.log" >&2; die "ecowatch tokens create failed"; }
done
log "$(wc -l <"$tokens") tokens created"

cat >"$work/ecowatch.toml" <<'TOML'
# Only the API: no crawl, rescan, relay or digest runs during the benchmark.
[schedule]
crawl = "off"
rescan = "off"
relay = "off"
digest = "off"

[serve]
grace-secs = 2
TOML

# ---------------------------------------------------------------- replicas and load

free_port() {
    python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}

# Starts one replica (in this shell, so its pid is kept for the cleanup); sets $replica_port.
start_replica() {
    local port
    port=$(free_port)
    "$bin" serve --config "$work/ecowatch.toml" --listen "127.0.0.1:$port" \
        >"$work/serve-$port.log" 2>&1 &
    server_pids+=($!)
    local waited=0
    until curl -fs -o /dev/null "http://127.0.0.1:$port/healthz"; do
        sleep 0.2
        waited=$((waited + 1))
        if ((waited > 150)); then
            cat "$work/serve-$port.log" >&2
            die "serve on port $port did not come up"
        fi
    done
    # One authenticated request, so a broken setup fails here rather than as 100% errors.
    local status
    status=$(curl -sS -o "$work/probe.json" -w '%{http_code}' \
        -H "Authorization: Bearer $(head -n1 "$tokens")" \
        "http://127.0.0.1:$port/api/v1/findings?limit=100")
    [[ $status == 200 ]] || { cat "$work/probe.json" >&2; die "probe request got HTTP $status"; }
    replica_port=$port
}

stop_replicas() {
    local pid
    for pid in "${server_pids[@]}"; do
        kill -TERM "$pid" 2>/dev/null || true
        wait "$pid" 2>/dev/null || true
    done
    server_pids=()
}

# run_setup NAME PORT...: one wrk per port, rate split evenly, for $secs seconds; prints one
# result line "NAME target achieved p50 p99 max errors" from the merged histograms.
run_setup() {
    local name=$1
    shift
    local ports=("$@") per=$((rate / $#)) port i=0 pids=() outs=()
    for port in "${ports[@]}"; do
        local out="$work/wrk-$name-$i.txt"
        outs+=("$out")
        BENCH_TOKENS=$tokens BENCH_RATE=$per BENCH_THREADS=$threads BENCH_OUT=$out \
            wrk -t"$threads" -c"$connections" -d"${secs}s" --timeout 5s \
            -s "$root/scripts/bench/serve-load.lua" "http://127.0.0.1:$port" \
            >"$work/wrk-$name-$i.log" 2>&1 &
        pids+=($!)
        i=$((i + 1))
    done
    local pid
    for pid in "${pids[@]}"; do
        wait "$pid" || die "wrk failed: $(cat "$work"/wrk-"$name"-*.log)"
    done
    # First line of each file: requests duration_us http_errors socket_errors; then
    # latency_us count pairs. Throughput sums the processes over the longest duration;
    # percentiles come from the merged histograms.
    local totals
    totals=$(awk 'FNR == 1 { r += $1; if ($2 > d) d = $2; e += $3 + $4 }
                  END { printf "%d %d %d", r, d, e }' "${outs[@]}")
    awk 'FNR > 1' "${outs[@]}" | sort -n -k1,1 | awk -v name="$name" -v target="$rate" \
        -v totals="$totals" '
        { v[NR] = $1; c[NR] = $2; total += $2 }
        END {
            split(totals, t, " ")
            seen = 0; p50 = -1; p99 = -1
            for (k = 1; k <= NR; k++) {
                seen += c[k]
                if (p50 < 0 && seen >= total * 0.50) p50 = v[k]
                if (p99 < 0 && seen >= total * 0.99) p99 = v[k]
            }
            printf "%s %d %.1f %.2f %.2f %.2f %d\n", name, target, t[1] / (t[2] / 1e6),
                p50 / 1000, p99 / 1000, v[NR] / 1000, t[3]
        }'
}

results="$work/results.txt"
: >"$results"

log "1 replica: $rate req/s for ${secs}s"
start_replica
run_setup "1-replica" "$replica_port" >>"$results"
stop_replicas

log "3 replicas: $rate req/s for ${secs}s (one wrk per replica)"
ports=()
for _ in 1 2 3; do
    start_replica
    ports+=("$replica_port")
done
run_setup "3-replicas" "${ports[@]}" >>"$results"
stop_replicas

echo
echo "GET /api/v1/findings?limit=100, $tenants tenants × $findings findings, random tenant per request"
echo "$(nproc) CPUs (load generator on the same machine), ${secs}s per setup, target p99 < 50 ms"
echo
awk 'BEGIN { printf "%-12s %12s %12s %10s %10s %10s %8s\n", "setup", "target/s", "achieved/s",
                    "p50 ms", "p99 ms", "max ms", "errors" }
     { printf "%-12s %12d %12.1f %10.2f %10.2f %10.2f %8d\n", $1, $2, $3, $4, $5, $6, $7 }' \
    "$results"
