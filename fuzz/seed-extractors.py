#!/usr/bin/env python3
"""Builds the seed corpus of the `extractors` fuzz target from tests/fixtures/extract/**.

Each seed is one selector byte + a fixture's bytes. The selector is the extractor's index in
`ecowatch::extract::all()` (registry order in src/extract/mod.rs, then each EXTRACTORS list);
a file whose name no extractor is known to want is seeded under every selector.
Keep SELECTORS in step with the registry: a stale table only wastes seeds, it breaks nothing.

Usage (from fuzz/): python3 seed-extractors.py [OUT_DIR]   (default corpus/extractors)
"""
import hashlib
import sys
from pathlib import Path

# Registry order: npm, pypi, cargo, go, rubygems, packagist, actions, runtime.
SELECTORS = {
    "package.json": 0,
    "package-lock.json": 1,
    "npm-shrinkwrap.json": 2,
    "pnpm-lock.yaml": 3,
    "yarn.lock": 4,
    "pyproject.toml": 6,
    "Pipfile": 7,
    "poetry.lock": 8,
    "uv.lock": 9,
    "Pipfile.lock": 10,
    "pdm.lock": 11,
    "Cargo.toml": 12,
    "Cargo.lock": 13,
    "go.mod": 14,
    "go.work": 15,
    "Gemfile": 16,
    "Gemfile.lock": 17,
    "composer.json": 18,
    "composer.lock": 19,
    "action.yml": 21,
    "action.yaml": 21,
    ".nvmrc": 22,
    ".node-version": 22,
    ".python-version": 23,
    ".tool-versions": 24,
    "rust-toolchain": 25,
    "rust-toolchain.toml": 25,
}
EXTRACTOR_COUNT = 27


def selectors_for(path):
    name = path.name
    if name in SELECTORS:
        return [SELECTORS[name]]
    if name.endswith(".txt") or name.endswith(".in"):
        return [5]  # requirements files have many names
    if path.parent.name == "workflows" and name.endswith((".yml", ".yaml")):
        return [20]
    if name.startswith("Dockerfile") or name.endswith((".dockerfile", "Containerfile")):
        return [26]
    return list(range(EXTRACTOR_COUNT))


def main():
    here = Path(__file__).resolve().parent
    fixtures = here.parent / "tests" / "fixtures" / "extract"
    out = Path(sys.argv[1]) if len(sys.argv) > 1 else here / "corpus" / "extractors"
    out.mkdir(parents=True, exist_ok=True)
    written = 0
    for path in sorted(p for p in fixtures.rglob("*") if p.is_file()):
        data = path.read_bytes()
        for selector in selectors_for(path):
            seed = bytes([selector]) + data
            (out / hashlib.sha1(seed).hexdigest()).write_bytes(seed)
            written += 1
    print(f"{written} seeds in {out}")


if __name__ == "__main__":
    main()
