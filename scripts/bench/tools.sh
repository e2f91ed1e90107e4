# Shared helpers for the benchmark scripts: find or install the peers we compare against.
# Tools go to bench-data/tools so nothing outside the checkout changes.
root="${root:-$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)}"
tools="$root/bench-data/tools"
mkdir -p "$tools"
export PATH="$tools/bin:$tools/venv/bin:$tools/node_modules/.bin:$PATH"

# ripgrep >= 14 from crates.io (Debian's 13 runs an older, much slower regex engine).
need_ripgrep() {
  if ! command -v rg >/dev/null || ! rg --version | head -n1 | grep -Eq 'ripgrep (1[4-9]|[2-9][0-9])\.'; then
    cargo install ripgrep --locked --root "$tools" --quiet
  fi
  RG="$(command -v rg)"
}

# ast-grep and semgrep from PyPI, in a private virtualenv.
need_python_peers() {
  if [ ! -x "$tools/venv/bin/ast-grep" ] || [ ! -x "$tools/venv/bin/semgrep" ]; then
    python3 -m venv "$tools/venv"
    "$tools/venv/bin/pip" install --quiet ast-grep-cli semgrep
  fi
}
