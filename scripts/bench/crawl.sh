#!/usr/bin/env bash
# Benchmark (issue 4, "Efficiency"): `ecowatch crawl --source github` over PROJECTS watched
# projects (default 500) against a fake GitHub on loopback (scripts/bench/fake_github.py), twice
# on one store: the second run finds nothing changed upstream. For each run prints requests,
# 304s, GitHub points (from ecowatch's summary line and from the fake server's own count) and
# wall time, then the ratio of the second run's GitHub budget to the first's (target <= 5%) and
# the most requests the server saw in flight at once against ECOWATCH_HTTP_PER_HOST.
#
#   scripts/bench/crawl.sh
# Environment: PROJECTS (default 500), ECOWATCH_HTTP_PER_HOST (default 8, ecowatch's default),
# LATENCY_MS (the fake server's per-request delay, default 2), ECOWATCH (a prebuilt binary to
# use instead of building target/release/ecowatch).
set -euo pipefail
root="$(cd "$(dirname "$0")/../.." && pwd)"
projects="${PROJECTS:-500}"
per_host="${ECOWATCH_HTTP_PER_HOST:-8}"
latency="${LATENCY_MS:-2}"
if [ -z "${ECOWATCH:-}" ]; then
    (cd "$root" && cargo build --release --quiet)
    ECOWATCH="$root/target/release/ecowatch"
fi

work="$(mktemp -d)"
server_pid=""
cleanup() {
    if [ -n "$server_pid" ]; then kill "$server_pid" 2>/dev/null || true; fi
    rm -rf "$work"
}
trap cleanup EXIT

mkdir -p "$work/feeds"
for i in $(seq 0 $((projects - 1))); do
    printf '[[watch]]\ngithub = "bench-org%d/project%d"\npackages = ["npm:bench-pkg-%d"]\nchangelog = "CHANGELOG.md"\n\n' \
        "$((i % 37))" "$i" "$i"
done >"$work/feeds/watch.toml"

python3 "$root/scripts/bench/fake_github.py" --port-file "$work/port" --latency-ms "$latency" &
server_pid=$!
for _ in $(seq 1 100); do [ -s "$work/port" ] && break; sleep 0.05; done
[ -s "$work/port" ] || { echo "the fake GitHub did not start" >&2; exit 2; }
base="http://127.0.0.1:$(cat "$work/port")"

run() {
    local label="$1" start end out
    curl -fsS -X POST "$base/__reset" >/dev/null
    start=$(date +%s.%N)
    out=$(env -u ECOWATCH_DATABASE_URL -u ECOWATCH_DB -u ECOWATCH_GITHUB_GRAPHQL_URL \
        ECOWATCH_GITHUB_API_URL="$base" ECOWATCH_GITHUB_TOKEN="bench-token" \
        ECOWATCH_HTTP_PER_HOST="$per_host" \
        "$ECOWATCH" crawl --source github --feeds "$work/feeds" --db "$work/ecowatch.db" 2>"$work/$label.err") || {
        echo "$label run failed:" >&2
        cat "$work/$label.err" >&2
        exit 2
    }
    end=$(date +%s.%N)
    curl -fsS "$base/__stats" >"$work/$label.stats"
    printf '%s\n' "$out" | grep '^github:' >"$work/$label.summary" || true
    echo "$start $end" >"$work/$label.time"
}

run first
run second

python3 - "$work" "$per_host" "$projects" <<'EOF'
import json, re, sys
work, per_host, projects = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
rows = {}
for label in ("first", "second"):
    summary = open(f"{work}/{label}.summary").read().strip()
    stats = json.load(open(f"{work}/{label}.stats"))
    start, end = map(float, open(f"{work}/{label}.time").read().split())
    m = re.search(r"(\d+) requests, (\d+) not modified \(304\), (\d+) GitHub points "
                  r"\(core (\d+), graphql (\d+)\)", summary)
    if not m:
        sys.exit(f"no summary line in the {label} run's output: {summary!r}")
    req, nm, pts, core, gql = map(int, m.groups())
    rows[label] = dict(req=req, nm=nm, pts=pts, core=core, gql=gql, stats=stats, wall=end - start)
    print(f"{label:>6} run: ecowatch: {req} requests, {nm} x 304, {pts} GitHub points "
          f"(core {core}, graphql {gql}) | fake GitHub: {stats['requests']} requests, "
          f"{stats['not_modified']} x 304, {stats['core_points'] + stats['graphql_points']} points "
          f"(core {stats['core_points']}, graphql {stats['graphql_points']}) | wall {end - start:.2f} s")
first, second = rows["first"], rows["second"]
budget = lambda r: r["stats"]["core_points"] + r["stats"]["graphql_points"]
ratio = budget(second) / budget(first) if budget(first) else float("nan")
print(f"projects: {projects}; second/first GitHub budget: {budget(second)}/{budget(first)} = "
      f"{ratio:.2%} (target <= 5%: {'met' if ratio <= 0.05 else 'MISSED'})")
agree = all(r["pts"] == budget(r) and r["req"] == r["stats"]["requests"] for r in rows.values())
print(f"ecowatch's counts match the server's: {'yes' if agree else 'NO'}")
most = max(r["stats"]["max_in_flight"] for r in rows.values())
print(f"max requests in flight per host: {most} (limit ECOWATCH_HTTP_PER_HOST={per_host}: "
      f"{'kept' if most <= per_host else 'EXCEEDED'})")
EOF
