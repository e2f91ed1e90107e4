#!/usr/bin/env python3
"""Exports an ecowatch rule pack (feeds/rules/**/*.toml, format in feeds/README.md) into the
inputs the scan benchmark gives to the peers, so that every tool does the same matching work:

  OUT/patterns.txt          every `kind = "regex"` pattern, one a line, for `rg -f` (group names
                            dropped: rg joins them into one regex), plus one
                            pattern for JWT candidates if any `kind = "jwt"` matcher exists
  OUT/semgrep-regex.yml     the same patterns as semgrep `pattern-regex` rules (languages: [regex])
  OUT/ast-grep/sgconfig.yml + OUT/ast-grep/rules/*.yml
                            every `kind = "ast-grep"` matcher as ast-grep YAML rules, one file per
                            (matcher, language): `rule`, `constraints` and `utils` word for word
  OUT/feeds-regex/rules/    the pack with only its regex matchers and no [when] gates, for
                            `ecowatch scan --feeds` (times ecowatch's regex phase on its own)
  OUT/feeds-structural/rules/
                            the same with only the ast-grep matchers (the structural phase)

Usage: export-patterns.py RULES_DIR OUT_DIR

Deliberate simplifications (the peers cannot express them): a regex matcher's `not` and `files`
and a rule's `[files]` globs are dropped for rg and semgrep, so those scan every file with every
pattern (more work than ecowatch, never less). `[when]` gates are dropped everywhere, so no rule
is skipped for lack of a dependency. Prints a one-line summary to stderr.
"""
import json
import re
import shutil
import sys
import tomllib
from pathlib import Path

# The pack's language names (feeds/README.md) → ast-grep's built-in language names.
AST_GREP_LANGUAGES = {
    "js": "JavaScript",
    "jsx": "JavaScript",  # tree-sitter-javascript parses JSX; ast-grep maps .jsx to it
    "ts": "TypeScript",
    "tsx": "Tsx",
    "py": "Python",
    "html": "Html",
}

BARE_KEY = re.compile(r"^[A-Za-z0-9_-]+$")


def load_rules(rules_dir):
    """(relative path, parsed TOML) per rule file, sorted; files that do not parse are reported."""
    rules = []
    for path in sorted(Path(rules_dir).rglob("*.toml")):
        # Fixture repositories (`name.fixtures/`) hold pyproject.toml and the like, not rules.
        if any(part.endswith(".fixtures") for part in path.relative_to(rules_dir).parts):
            continue
        try:
            with path.open("rb") as f:
                data = tomllib.load(f)
        except (tomllib.TOMLDecodeError, UnicodeDecodeError) as err:
            print(f"export-patterns: skipping {path}: {err}", file=sys.stderr)
            continue
        if "match" not in data:
            continue
        rules.append((path.relative_to(rules_dir), data))
    return rules


def rule_id(rel, data):
    return str(data.get("id") or rel.with_suffix("").as_posix())


# What a text tool has to find for a `jwt` matcher: a compact JWS whose header and payload are
# base64url JSON objects (`eyJ` is `{"`). Claims are then decoded only for these candidates.
JWT_CANDIDATE = r"\beyJ[A-Za-z0-9_-]+\.eyJ[A-Za-z0-9_-]+\.[A-Za-z0-9_-]*"


def regex_patterns(rules):
    """Unique regex patterns in pack order, plus the JWT candidate pattern when a `jwt`
    matcher exists. A pattern spanning lines cannot go in an `rg -f` file (one pattern a
    line), so its line breaks become `\\n` escapes."""
    seen = {}
    for rel, data in rules:
        for i, m in enumerate(data.get("match", [])):
            if m.get("kind") == "jwt":
                seen.setdefault(JWT_CANDIDATE, f"{rule_id(rel, data)}#{i} (jwt candidates)")
            if m.get("kind") == "regex" and isinstance(m.get("pattern"), str):
                pattern = m["pattern"].replace("\r", "\\r").replace("\n", "\\n")
                seen.setdefault(pattern, f"{rule_id(rel, data)}#{i}")
    return list(seen.items())


def unname_groups(pattern):
    """`(?P<NAME>…)` and `(?<NAME>…)` → `(?:…)`. rg joins its pattern file into one regex, in
    which two patterns naming the same group are an error; the names matter only to ecowatch's
    messages. Escapes and character classes are skipped so `\\(?P<` stays as written."""
    out = []
    i, in_class = 0, False
    while i < len(pattern):
        c = pattern[i]
        if c == "\\":
            out.append(pattern[i : i + 2])
            i += 2
            continue
        if in_class:
            in_class = c != "]"
        elif c == "[":
            in_class = True
            # a `]` right after `[` or `[^` is a literal member, not the end of the class
            j = i + 1 + (pattern[i + 1 : i + 2] == "^")
            if pattern[j : j + 1] == "]":
                out.append(pattern[i : j + 1])
                i = j + 1
                continue
        elif pattern.startswith(("(?P<", "(?<"), i) and not pattern.startswith(("(?<=", "(?<!"), i):
            end = pattern.find(">", i)
            if end != -1:
                out.append("(?:")
                i = end + 1
                continue
        out.append(c)
        i += 1
    return "".join(out)


def yaml_scalar(text):
    # A JSON string is a valid YAML double-quoted scalar.
    return json.dumps(text, ensure_ascii=False)


def semgrep_yaml(patterns):
    out = ["rules:"]
    for n, (pattern, origin) in enumerate(patterns, 1):
        out += [
            f"  - id: re-{n:03d}",
            f"    message: {yaml_scalar(origin)}",
            "    severity: WARNING",
            "    languages: [regex]",
            f"    pattern-regex: {yaml_scalar(pattern)}",
        ]
    return "\n".join(out) + "\n"


def ast_grep_rules(rules):
    """(file stem, YAML text) per structural matcher and ast-grep language. The values are
    written as JSON, which is YAML, so nested rule objects keep their exact structure."""
    out = []
    for rel, data in rules:
        rid = rule_id(rel, data)
        for i, m in enumerate(data.get("match", [])):
            if m.get("kind") != "ast-grep" or "rule" not in m:
                continue
            languages = []
            for lang in m.get("languages", []):
                mapped = AST_GREP_LANGUAGES.get(lang)
                if mapped is None:
                    print(f"export-patterns: {rid}: unknown language {lang!r}", file=sys.stderr)
                elif mapped not in languages:
                    languages.append(mapped)
            for lang in languages:
                stem = f"{rid.replace('/', '--')}-{i}-{lang.lower()}"
                doc = {
                    "id": stem,
                    "language": lang,
                    "severity": "warning",
                    "message": m.get("message") or data.get("message") or rid,
                    "rule": m["rule"],
                }
                for key in ("constraints", "utils"):
                    if key in m:
                        doc[key] = m[key]
                text = "\n".join(f"{k}: {json.dumps(v, ensure_ascii=False)}" for k, v in doc.items())
                out.append((stem, text + "\n"))
    return out


def toml_key(key):
    return key if BARE_KEY.match(key) else json.dumps(key, ensure_ascii=False)


def toml_value(value):
    """TOML for a parsed value: JSON string escapes are valid TOML basic-string escapes, and
    nested tables become inline tables."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, str):
        return json.dumps(value, ensure_ascii=False)
    if isinstance(value, (int, float)):
        return repr(value)
    if isinstance(value, list):
        return "[" + ", ".join(toml_value(v) for v in value) + "]"
    if isinstance(value, dict):
        return "{ " + ", ".join(f"{toml_key(k)} = {toml_value(v)}" for k, v in value.items()) + " }"
    # dates and datetimes: TOML's own literal form is their ISO text
    return value.isoformat()


def rule_toml(data, matchers):
    lines = []
    tables = []
    for key, value in data.items():
        if key in ("match", "when"):
            continue
        if isinstance(value, dict):
            tables.append((key, value))
        elif isinstance(value, list) and value and all(isinstance(v, dict) for v in value):
            tables.extend((f"[{key}]", v) for v in value)  # array of tables, e.g. [[watch]]
        else:
            lines.append(f"{toml_key(key)} = {toml_value(value)}")
    for name, table in tables:
        lines.append(f"\n[{name}]")  # `[watch]` here comes out as `[[watch]]`
        lines += [f"{toml_key(k)} = {toml_value(v)}" for k, v in table.items()]
    for m in matchers:
        lines.append("\n[[match]]")
        lines += [f"{toml_key(k)} = {toml_value(v)}" for k, v in m.items()]
    return "\n".join(lines) + "\n"


def write_feeds(rules, out_dir, kind):
    """A feeds directory holding every rule that has a matcher of `kind`, with only those
    matchers and no gates. Fixtures are not copied: `scan --feeds` does not need them."""
    written = 0
    for rel, data in rules:
        matchers = [m for m in data.get("match", []) if m.get("kind") == kind]
        if not matchers:
            continue
        target = out_dir / "rules" / rel
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text(rule_toml(data, matchers), encoding="utf-8")
        written += 1
    return written


def main():
    if len(sys.argv) != 3:
        print(__doc__, file=sys.stderr)
        return 2
    rules_dir, out = Path(sys.argv[1]), Path(sys.argv[2])
    if not rules_dir.is_dir():
        print(f"export-patterns: no such directory: {rules_dir}", file=sys.stderr)
        return 2
    rules = load_rules(rules_dir)
    out.mkdir(parents=True, exist_ok=True)

    patterns = regex_patterns(rules)
    rg_patterns = "".join(unname_groups(p) + "\n" for p, _ in patterns)
    (out / "patterns.txt").write_text(rg_patterns, encoding="utf-8")
    (out / "semgrep-regex.yml").write_text(semgrep_yaml(patterns), encoding="utf-8")

    sg_dir = out / "ast-grep"
    shutil.rmtree(sg_dir, ignore_errors=True)
    (sg_dir / "rules").mkdir(parents=True)
    structural = ast_grep_rules(rules)
    for stem, text in structural:
        (sg_dir / "rules" / f"{stem}.yml").write_text(text, encoding="utf-8")
    (sg_dir / "sgconfig.yml").write_text("ruleDirs:\n  - rules\n", encoding="utf-8")

    counts = {}
    for kind, name in (("regex", "feeds-regex"), ("ast-grep", "feeds-structural")):
        shutil.rmtree(out / name, ignore_errors=True)
        counts[kind] = write_feeds(rules, out / name, kind)

    print(
        f"export-patterns: {len(rules)} rules -> {len(patterns)} regexes, "
        f"{len(structural)} ast-grep rules; feeds-regex {counts['regex']} rules, "
        f"feeds-structural {counts['ast-grep']} rules",
        file=sys.stderr,
    )
    if not patterns:
        # An empty pattern file makes rg match nothing; say so rather than time nothing.
        print("export-patterns: warning: no regex matchers found", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
