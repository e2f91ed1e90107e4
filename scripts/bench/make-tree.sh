#!/usr/bin/env bash
# Assembles a large, real-world tree for the inventory and scan benchmarks in bench-data/monorepo,
# from files this machine already has or can get from the package registries:
#   crates/       every crate source in cargo's registry cache (real Cargo.toml files and code)
#   js-packages/  a real `npm install` of popular packages (hundreds of real package.json files)
#   apps/appN/    200 services, each with real lockfiles (package-lock.json from that install,
#                 this repository's Cargo.lock, a pinned requirements.txt, a workflow)
# Any other large checkout works too: pass its path to the benchmark scripts instead
# (e.g. a clone of a real monorepo such as babel/babel or getsentry/sentry).
set -euo pipefail
root="$(cd "$(dirname "$0")/../.." && pwd)"
out="$root/bench-data/monorepo"
if [ -d "$out" ]; then
  echo "bench tree exists: $out"
  exit 0
fi
work="$root/bench-data/work"
mkdir -p "$work" "$out/crates" "$out/js-packages" "$out/apps"

echo "==> crates from cargo's registry cache"
registry=$(ls -d "${CARGO_HOME:-$HOME/.cargo}"/registry/src/*/ | head -n1)
cp -r "$registry". "$out/crates/"

echo "==> a real npm install (no scripts run)"
mkdir -p "$work/npm"
cat > "$work/npm/package.json" <<'JSON'
{
  "name": "ecowatch-bench",
  "private": true,
  "dependencies": {
    "express": "^4.19.2", "react": "^18.3.1", "react-dom": "^18.3.1", "next": "^14.2.5",
    "@supabase/supabase-js": "^2.45.0", "moment": "^2.30.1", "lodash": "^4.17.21",
    "axios": "^1.7.2", "webpack": "^5.93.0", "eslint": "^8.57.0", "typescript": "^5.5.4",
    "jest": "^29.7.0", "express-rate-limit": "^7.4.0", "tailwindcss": "^3.4.7"
  }
}
JSON
(cd "$work/npm" && npm install --ignore-scripts --no-audit --no-fund --loglevel=error)
cp -r "$work/npm/node_modules/." "$out/js-packages/"

echo "==> 200 services with real lockfiles"
for i in $(seq 1 200); do
  app="$out/apps/app$i"
  mkdir -p "$app/.github/workflows" "$app/src"
  cp "$work/npm/package.json" "$app/package.json"
  cp "$work/npm/package-lock.json" "$app/package-lock.json"
  cp "$root/Cargo.lock" "$app/Cargo.lock"
  printf 'requests==2.31.0\nflask==3.0.3\npydantic==2.8.2\nsupabase==2.6.0\ncryptography==43.0.0\n' > "$app/requirements.txt"
  printf 'name: ci\non: push\njobs:\n  test:\n    runs-on: ubuntu-latest\n    steps:\n      - uses: actions/checkout@v3\n      - uses: actions/setup-node@v3\n        with:\n          node-version: 18\n' > "$app/.github/workflows/ci.yml"
  printf '18\n' > "$app/.nvmrc"
done
echo "tree ready: $out ($(find "$out" -type f | wc -l) files)"
