#!/usr/bin/env bash
# Benchmark: `ecowatch inventory` against `rg --files` (ripgrep >= 14) on the same large tree,
# run interleaved in one go. Prints median wall time, CPU seconds, peak memory and the ratio.
# Target (issue 7): inventory <= 2x the time of `rg --files`, peak memory < 200 MiB.
# `rg --files` reads no file contents; "rg reading manifests" (ripgrep counting a word in the
# same manifests and lockfiles the inventory parses) shows the cost of just reading those bytes.
#
#   scripts/bench/inventory.sh [TREE]     (default: bench-data/monorepo, built by make-tree.sh)
set -euo pipefail
root="$(cd "$(dirname "$0")/../.." && pwd)"
tree="${1:-$root/bench-data/monorepo}"
[ -d "$tree" ] || "$root/scripts/bench/make-tree.sh"
# shellcheck source=scripts/bench/tools.sh
source "$root/scripts/bench/tools.sh"
need_ripgrep
(cd "$root" && cargo build --release --quiet)
eco="$root/target/release/ecowatch"
echo "tree: $tree ($(find "$tree" -type f | wc -l) files, $(find "$tree" -name package-lock.json -o -name Cargo.lock -o -name requirements.txt -o -name Cargo.toml -o -name package.json | wc -l) manifests and lockfiles)"
echo "ripgrep: $($RG --version | head -n1)"
# --no-ignore-parent: this checkout's .gitignore lists bench-data/; ecowatch ignores parents too.
python3 "$root/scripts/bench/measure.py" --runs "${RUNS:-7}" --cwd "$tree" \
  "rg --files=$RG --files --hidden --no-ignore-parent" \
  "rg reading manifests=$RG --hidden --no-ignore-parent -c version -g package.json -g package-lock.json -g Cargo.toml -g Cargo.lock -g 'requirements*.txt' -g '*.yml' -g .nvmrc" \
  "ecowatch inventory=$eco inventory . --format json"
