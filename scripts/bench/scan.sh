#!/usr/bin/env bash
# Benchmark: `ecowatch scan` with the full bundled rule pack against the peers doing the same
# matching work on the same large tree, run interleaved in one go (issue 2):
#   rg        ripgrep >= 14 with every regex of the pack in one pattern file (`rg -f`)
#   ast-grep  the pack's structural (`kind = "ast-grep"`) matchers as an ast-grep rule dir
#   semgrep   the pack's regexes as `pattern-regex` rules
# The peers' inputs are exported from feeds/rules by export-patterns.py (see its notes on what
# cannot be carried over). Prints median wall time, CPU seconds, peak memory and ratios, then the
# issue's targets:
#   regex phase <= 1.5x rg, structural phase <= 0.2x ast-grep, whole scan >= 30x faster than
#   semgrep, peak memory <= 150 MiB.
# ecowatch cannot time its phases by itself, so the phases are timed as whole scans with a
# regex-only and a structural-only copy of the pack (`--feeds`; walk and inventory included, so
# these are upper bounds).
#
#   scripts/bench/scan.sh [TREE]     (default: bench-data/monorepo, built by make-tree.sh)
# Environment: RUNS (default 5), RULES (default feeds/rules), PEERS (default "rg ast-grep semgrep"),
# ECOWATCH (a prebuilt binary to time instead of building target/release/ecowatch).
set -euo pipefail
root="$(cd "$(dirname "$0")/../.." && pwd)"
tree="${1:-$root/bench-data/monorepo}"
rules="${RULES:-$root/feeds/rules}"
peers="${PEERS:-rg ast-grep semgrep}"
[ -d "$tree" ] || "$root/scripts/bench/make-tree.sh"
[ -d "$rules" ] || { echo "no rule pack at $rules (set RULES=DIR)" >&2; exit 2; }
# shellcheck source=scripts/bench/tools.sh
source "$root/scripts/bench/tools.sh"
need_ripgrep
need_python_peers

work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
python3 "$root/scripts/bench/export-patterns.py" "$rules" "$work"

commands=()
if [ -n "${ECOWATCH:-}" ]; then
  eco="$ECOWATCH"
else
  eco="$root/target/release/ecowatch"
  (cd "$root" && cargo build --release --quiet)
fi
have_ecowatch=0
if "$eco" scan --help >/dev/null 2>&1; then
  have_ecowatch=1
  eco_scan="$eco scan . --format json --fail-on never"
  commands+=("ecowatch scan=$eco_scan")
  # A phase run is only timed if that reduced pack loads and scans without error.
  for phase in regex structural; do
    feeds="$work/feeds-$phase"
    if [ -n "$(find "$feeds" -name '*.toml' 2>/dev/null | head -n1)" ] &&
      (cd "$tree" && $eco_scan --feeds "$feeds" >/dev/null 2>"$work/$phase.err"); then
      commands+=("ecowatch $phase-only=$eco_scan --feeds $feeds")
    else
      echo "SKIP ecowatch $phase-only: $(head -c 300 "$work/$phase.err" 2>/dev/null || echo 'no such matchers in the pack')"
    fi
  done
else
  echo "SKIP ecowatch: \`$eco scan --help\` fails (the scan command has not landed yet); timing the peers only"
fi

for peer in $peers; do
  case "$peer" in
    rg)
      if [ -s "$work/patterns.txt" ]; then
        # --hidden: ecowatch reads .github/, .env and the like; --no-ignore-parent: this
        # checkout's .gitignore lists bench-data/, which must not hide the tree.
        commands+=("rg -f patterns=$RG --hidden --no-ignore-parent -f $work/patterns.txt .")
        # For reference: the same without Unicode classes. Unicode `\b`/`\w` in one big
        # alternation can push the lazy DFA off non-ASCII text (10x on js-packages/).
        commands+=("rg -f --no-unicode=$RG --hidden --no-ignore-parent --no-unicode -f $work/patterns.txt .")
      else
        echo "SKIP rg: the pack has no regex matchers"
      fi
      ;;
    ast-grep)
      if [ -n "$(ls -A "$work/ast-grep/rules")" ]; then
        commands+=("ast-grep scan=ast-grep scan -c $work/ast-grep/sgconfig.yml --no-ignore hidden --no-ignore parent --json=stream .")
      else
        echo "SKIP ast-grep: the pack has no ast-grep matchers"
      fi
      ;;
    semgrep)
      # The same files as rg: no .semgrepignore defaults (tests/, >1 MB), no size limit, and no
      # `git ls-files` (bench-data/ is gitignored by this checkout, so semgrep would scan
      # nothing). `--x-ignore-semgrepignore-files` is an internal flag of semgrep 1.x.
      commands+=("semgrep regex=semgrep scan --metrics=off --disable-version-check -q --no-git-ignore --x-ignore-semgrepignore-files --max-target-bytes=0 --json --config $work/semgrep-regex.yml .")
      ;;
    *) echo "unknown peer: $peer" >&2; exit 2 ;;
  esac
done
[ "${#commands[@]}" -gt 0 ] || { echo "nothing to time" >&2; exit 2; }

echo "tree: $tree ($(find "$tree" -type f | wc -l) files, $(du -sh "$tree" | cut -f1))"
echo "rules: $rules ($(wc -l <"$work/patterns.txt") regexes, $(find "$work/ast-grep/rules" -name '*.yml' | wc -l) ast-grep rules)"
echo "ripgrep: $($RG --version | head -n1); ast-grep: $(ast-grep --version); semgrep: $(semgrep --version 2>/dev/null)"
echo "load before: $(cut -d' ' -f1-3 /proc/loadavg)"
python3 "$root/scripts/bench/measure.py" --runs "${RUNS:-5}" --cwd "$tree" --json "$work/results.json" \
  "${commands[@]}"
echo "load after: $(cut -d' ' -f1-3 /proc/loadavg)"

[ "$have_ecowatch" = 1 ] || exit 0
python3 - "$work/results.json" <<'PY'
import json
import sys

r = json.load(open(sys.argv[1]))
eco = r["ecowatch scan"]

def check(label, value, limit, ok, unit="x"):
    print(f"  {label:<44} {value:>8.2f}{unit} (target {limit}) {'PASS' if ok else 'FAIL'}")

print("targets (wall-clock medians; CPU seconds are steadier on a busy machine):")
rows = [
    ("regex phase / rg", "ecowatch regex-only", "rg -f patterns", "<= 1.5x", lambda v: v <= 1.5),
    ("structural phase / ast-grep", "ecowatch structural-only", "ast-grep scan", "<= 0.2x",
     lambda v: v <= 0.2),
]
for label, mine, peer, limit, ok in rows:
    if mine in r and peer in r:
        v = r[mine]["wall"] / r[peer]["wall"]
        check(label, v, limit, ok(v))
        if r[peer]["cpu"] >= 0.05:  # below that, rusage's 10 ms ticks make the ratio noise
            c = r[mine]["cpu"] / r[peer]["cpu"]
            print(f"  {'  (CPU ratio)':<44} {c:>8.2f}x")
    else:
        print(f"  {label:<44} not measured ({mine} or {peer} missing)")
if "semgrep regex" in r:
    v = r["semgrep regex"]["wall"] / eco["wall"]
    check("semgrep / whole scan (faster by)", v, ">= 30x", v >= 30)
peak = max(v["peak_mib"] for k, v in r.items() if k.startswith("ecowatch"))
check("ecowatch peak memory", peak, "<= 150 MiB", peak <= 150, " MiB")
PY
