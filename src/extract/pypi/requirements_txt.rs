//! pip requirement files (`requirements*.txt`, `requirements/*.txt|.in`, `constraints*.txt`).
//!
//! Read line by line as pip does: continuation lines joined, comments dropped, options ignored
//! except `-r`/`-c` (followed, when the walk would not read the target itself) and `-e`.
//! Entries of constraint files pin without requiring, so they are not direct.

use super::pep508;
use crate::dependency::{Dependency, SkipReason};
use crate::diag::Diagnostic;
use crate::ecosystem::Ecosystem;
use crate::extract::{ExtractError, Extracted, Extractor, ManifestFile};
use std::collections::HashSet;

/// `pypi/requirements`.
pub struct RequirementsTxt;

/// How deep `-r` chains are followed; real projects use two or three levels.
const MAX_INCLUDE_DEPTH: usize = 8;

/// Archive suffixes pip installs from a local file or URL.
const ARCHIVE_SUFFIXES: &[&str] = &[".whl", ".tar.gz", ".tgz", ".tar.bz2", ".tar.xz", ".zip"];

/// Prefixes of a requirement written as a location instead of a name.
const LOCATION_PREFIXES: &[&str] = &[
    ".", "/", "~", "file:", "git+", "hg+", "svn+", "bzr+", "git://",
];

impl Extractor for RequirementsTxt {
    fn id(&self) -> &'static str {
        "pypi/requirements"
    }

    fn wants(&self, path: &str, file_name: &str) -> bool {
        let name = file_name.to_ascii_lowercase();
        let in_requirements_dir = path
            .rsplit('/')
            .nth(1)
            .is_some_and(|dir| dir.eq_ignore_ascii_case("requirements"));
        ((name.starts_with("requirements") || name.starts_with("constraints"))
            && name.ends_with(".txt"))
            || (in_requirements_dir && (name.ends_with(".txt") || name.ends_with(".in")))
    }

    fn extract(&self, file: &ManifestFile<'_>) -> Result<Extracted, ExtractError> {
        let file_name = file.path.rsplit('/').next().unwrap_or(file.path);
        let mut reader = Reader {
            file,
            visited: HashSet::from([file.path.to_string()]),
            out: Extracted::default(),
        };
        let constraints = file_name.to_ascii_lowercase().starts_with("constraints");
        reader.read(file.path, file.text, constraints, 0);
        Ok(reader.out)
    }
}

/// Walks one requirement file and the includes it names.
struct Reader<'f, 'a> {
    file: &'f ManifestFile<'a>,
    /// Files already read, so include cycles end.
    visited: HashSet<String>,
    out: Extracted,
}

/// Where a line is written and whether its file only constrains.
#[derive(Clone, Copy)]
struct At<'p> {
    path: &'p str,
    line: u32,
    constraint: bool,
}

impl At<'_> {
    fn dep(&self, name: &str) -> Dependency {
        Dependency::new(Ecosystem::PyPI, name, self.path, self.line)
    }

    /// An entry written as a location: named by best effort, or by the location itself when
    /// nothing in it is a name (`-e .`), so the entry is still listed.
    fn located_dep(&self, location: &str) -> Dependency {
        let dep = match name_from_location(location) {
            Some(name) => self.dep(&name),
            None => {
                let mut dep = self.dep("");
                dep.name = location.to_string();
                dep
            }
        };
        dep.direct(!self.constraint)
    }

    fn warning(&self, code: &str, message: String) -> Diagnostic {
        Diagnostic::warning(code, message)
            .at(self.path)
            .at_line(self.line)
    }
}

impl Reader<'_, '_> {
    fn read(&mut self, path: &str, text: &str, constraint: bool, depth: usize) {
        for (line, joined) in logical_lines(text) {
            let content = strip_comment(&joined).trim();
            if content.is_empty() {
                continue;
            }
            let at = At {
                path,
                line,
                constraint,
            };
            if content.starts_with('-') {
                self.option(at, content, depth);
            } else {
                self.requirement(at, content);
            }
        }
    }

    fn option(&mut self, at: At<'_>, content: &str, depth: usize) {
        let (flag, value) = split_option(content);
        let needs_value = matches!(
            flag,
            "-r" | "--requirement" | "-c" | "--constraint" | "-e" | "--editable"
        );
        if needs_value && value.is_empty() {
            let message = format!("`{flag}` without a value");
            self.out
                .diagnostics
                .push(at.warning("invalid-requirement", message));
            return;
        }
        match flag {
            "-r" | "--requirement" => self.include(at, value, at.constraint, depth),
            "-c" | "--constraint" => self.include(at, value, true, depth),
            "-e" | "--editable" => {
                let dep = at.located_dep(value).skip(SkipReason::Editable, value);
                self.out.dependencies.push(dep);
            }
            // Index, build and install options (`-i`, `--hash`, `--pre`, ...) name no package.
            _ => {}
        }
    }

    fn include(&mut self, at: At<'_>, target: &str, constraint: bool, depth: usize) {
        let repo = self.file.repo;
        let Some(rel) = repo.resolve_relative(at.path, target) else {
            let message = format!("include `{target}` leaves the scanned directory");
            self.out
                .diagnostics
                .push(at.warning("include-unreadable", message));
            return;
        };
        let file_name = rel.rsplit('/').next().unwrap_or(&rel);
        if RequirementsTxt.wants(&rel, file_name) {
            // The walk reads that file on its own; following it here would list it twice.
            return;
        }
        if !self.visited.insert(rel.clone()) {
            return;
        }
        if depth >= MAX_INCLUDE_DEPTH {
            let message =
                format!("include `{target}` is nested more than {MAX_INCLUDE_DEPTH} deep");
            self.out
                .diagnostics
                .push(at.warning("include-too-deep", message));
            return;
        }
        match repo.read_text(&rel) {
            Ok(text) => self.read(&rel, &text, constraint, depth + 1),
            Err(e) => {
                let message = format!("cannot read include `{target}`: {e}");
                self.out
                    .diagnostics
                    .push(at.warning("include-unreadable", message));
            }
        }
    }

    fn requirement(&mut self, at: At<'_>, content: &str) {
        let spec = without_trailing_options(content);
        if is_location(spec) {
            let location = spec.split_whitespace().next().unwrap_or(spec);
            let reason = pep508::direct_reference_reason(location);
            let dep = at.located_dep(location).skip(reason, location);
            self.out.dependencies.push(dep);
            return;
        }
        let requirement = match pep508::parse(spec) {
            Ok(r) => r,
            Err(message) => {
                self.out
                    .diagnostics
                    .push(at.warning("invalid-requirement", message));
                return;
            }
        };
        let dep = requirement.to_dependency(at.path, at.line);
        self.out.dependencies.push(dep.direct(!at.constraint));
    }
}

/// Joins continuation lines (a trailing `\`) the way pip does, yielding each logical line with
/// the number of its first physical line. A comment line never continues.
fn logical_lines(text: &str) -> Vec<(u32, String)> {
    let mut out = Vec::new();
    let mut pending: Option<(u32, String)> = None;
    for (index, raw) in text.lines().enumerate() {
        let line = u32::try_from(index + 1).unwrap_or(u32::MAX);
        let is_comment = raw.trim_start().starts_with('#');
        match raw.strip_suffix('\\') {
            Some(body) if !is_comment => {
                pending
                    .get_or_insert_with(|| (line, String::new()))
                    .1
                    .push_str(body);
            }
            _ => match pending.take() {
                // A comment ends a continuation but adds nothing to it.
                Some((start, joined)) if is_comment => out.push((start, joined)),
                Some((start, mut joined)) => {
                    joined.push_str(raw);
                    out.push((start, joined));
                }
                None => out.push((line, raw.to_string())),
            },
        }
    }
    out.extend(pending);
    out
}

/// Drops a `#` comment: one that starts the line or follows whitespace (so `#egg=` survives).
fn strip_comment(line: &str) -> &str {
    let bytes = line.as_bytes();
    let cut = bytes
        .iter()
        .enumerate()
        .find(|(i, b)| **b == b'#' && (*i == 0 || bytes[i - 1].is_ascii_whitespace()))
        .map_or(line.len(), |(i, _)| i);
    &line[..cut]
}

/// Splits `--flag=value`, `--flag value`, `-r value` and `-rvalue`.
fn split_option(content: &str) -> (&str, &str) {
    let word_end = content.find(char::is_whitespace).unwrap_or(content.len());
    let word = &content[..word_end];
    if word.starts_with("--") {
        if let Some((flag, _)) = word.split_once('=') {
            return (flag, content[flag.len() + 1..].trim());
        }
        return (word, content[word_end..].trim());
    }
    match word.get(..2) {
        Some(flag) if word.len() > 2 => (flag, content[2..].trim()),
        _ => (word, content[word_end..].trim()),
    }
}

/// The requirement part of a line, before per-requirement options such as `--hash=...`.
fn without_trailing_options(content: &str) -> &str {
    let mut offset = 0;
    for word in content.split_inclusive(char::is_whitespace) {
        if offset > 0 && word.starts_with('-') {
            return content[..offset].trim();
        }
        offset += word.len();
    }
    content.trim()
}

/// Whether a requirement is written as a path, an archive or a URL instead of a name.
fn is_location(spec: &str) -> bool {
    let first = spec.split_whitespace().next().unwrap_or(spec);
    let lower = first.to_ascii_lowercase();
    // `name@https://...` is PEP 508 with a name; `https://...` alone is a location.
    let url_without_name = lower.find("://").is_some_and(|i| !lower[..i].contains('@'));
    let archive = !lower.contains('@') && ARCHIVE_SUFFIXES.iter().any(|s| lower.ends_with(s));
    url_without_name || archive || LOCATION_PREFIXES.iter().any(|p| lower.starts_with(p))
}

/// A best-effort package name for a location: the `#egg=` fragment, else the last path segment
/// (an archive's name up to its version, a git repository's name without `.git`).
fn name_from_location(location: &str) -> Option<String> {
    let (base, fragment) = location.split_once('#').unwrap_or((location, ""));
    let egg = fragment
        .split('&')
        .find_map(|part| part.strip_prefix("egg="))
        .map(|egg| &egg[..pep508::name_prefix_len(egg)])
        .filter(|egg| !egg.is_empty());
    if let Some(egg) = egg {
        return Some(egg.to_string());
    }
    let base = base.split('?').next().unwrap_or(base).trim_end_matches('/');
    let segment = base.rsplit(['/', '\\', ':']).next().unwrap_or(base);
    // `repo.git@v1.0` names the revision after `@`.
    let segment = segment.split('@').next().unwrap_or(segment);
    let segment = segment.strip_suffix(".git").unwrap_or(segment);
    let archive_suffix = ARCHIVE_SUFFIXES
        .iter()
        .find(|s| segment.to_ascii_lowercase().ends_with(*s));
    let stem = match archive_suffix {
        Some(suffix) => {
            // `my_pkg-1.0-py3-none-any.whl`, `my-pkg-1.0.tar.gz`: the name ends before `-<digit>`.
            let stem = &segment[..segment.len() - suffix.len()];
            let bytes = stem.as_bytes();
            let end = (1..bytes.len())
                .find(|&i| bytes[i - 1] == b'-' && bytes[i].is_ascii_digit())
                .map_or(stem.len(), |i| i - 1);
            &stem[..end]
        }
        None => segment,
    };
    let len = pep508::name_prefix_len(stem);
    (len > 0 && len == stem.len()).then(|| stem.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::extract::extract_at;
    use crate::extract::pypi::test_support::{extract_ok, fixture_dir, names, one};

    const FORMAT: &str = "requirements";

    #[test]
    fn wants_requirement_and_constraint_files_only() {
        let x = RequirementsTxt;
        for (path, yes) in [
            ("requirements.txt", true),
            ("requirements-dev.txt", true),
            ("app/requirements_test.txt", true),
            ("constraints.txt", true),
            ("requirements/base.txt", true),
            ("requirements/dev.in", true),
            ("requirements.txt.bak", false),
            ("requirements.in", false),
            ("dev-requirements.md", false),
            ("myrequirements.txt", false),
            ("docs/requirements/README.md", false),
            ("requirements/sub/base.txt", false),
            ("notes.txt", false),
        ] {
            let file_name = path.rsplit('/').next().unwrap_or(path);
            assert_eq!(x.wants(path, file_name), yes, "{path}");
        }
    }

    #[test]
    fn empty_file_has_no_entries() {
        let out = extract_ok(&RequirementsTxt, FORMAT, "empty", "requirements.txt");
        assert!(out.dependencies.is_empty());
        assert!(out.diagnostics.is_empty());
    }

    #[test]
    fn one_exact_pin_has_version_and_requirement() {
        let out = extract_ok(&RequirementsTxt, FORMAT, "one-package", "requirements.txt");
        assert_eq!(out.dependencies.len(), 1);
        let d = one(&out.dependencies, "requests");
        assert_eq!(d.version.as_deref(), Some("2.31.0"));
        assert_eq!(d.requirement.as_deref(), Some("==2.31.0"));
        assert!(d.direct && !d.dev && !d.optional && d.skipped.is_none());
        assert_eq!(d.source.path, "requirements.txt");
        assert_eq!(d.source.line, 3);
    }

    #[test]
    fn full_syntax_reads_extras_markers_hashes_and_continuations() {
        let out = extract_ok(&RequirementsTxt, FORMAT, "full-syntax", "requirements.txt");
        assert!(out.diagnostics.is_empty(), "{:?}", out.diagnostics);
        assert_eq!(
            names(&out.dependencies),
            [
                "django",
                "celery",
                "zope-interface",
                "pyyaml",
                "cryptography",
                "attrs",
                "numpy",
                "backports-zoneinfo"
            ]
        );
        let django = one(&out.dependencies, "django");
        assert_eq!(django.requirement.as_deref(), Some(">=4.2,<5"));
        assert_eq!(django.version, None);
        assert_eq!(django.source.line, 5);
        let celery = one(&out.dependencies, "celery");
        assert_eq!(celery.requirement.as_deref(), Some("~=5.3"));
        let zope = one(&out.dependencies, "zope-interface");
        assert_eq!(zope.requirement.as_deref(), Some("==6.*"));
        assert_eq!(zope.version, None, "a wildcard is not an exact pin");
        // A continued line with hashes is one entry at its first line.
        let pyyaml = one(&out.dependencies, "pyyaml");
        assert_eq!(pyyaml.version.as_deref(), Some("6.0.1"));
        assert_eq!(pyyaml.source.line, 8);
        let crypto = one(&out.dependencies, "cryptography");
        assert_eq!(crypto.version.as_deref(), Some("42.0.5"));
        assert_eq!(crypto.source.line, 11);
        let attrs = one(&out.dependencies, "attrs");
        assert_eq!(attrs.requirement, None);
        assert!(attrs.direct);
        let numpy = one(&out.dependencies, "numpy");
        assert_eq!(numpy.version.as_deref(), Some("1.26.4"));
        assert_eq!(numpy.requirement.as_deref(), Some("===1.26.4"));
        let zoneinfo = one(&out.dependencies, "backports-zoneinfo");
        assert_eq!(zoneinfo.requirement.as_deref(), Some(">=0.2.1"));
    }

    #[test]
    fn dev_only_file_is_read_like_any_other() {
        let out = extract_ok(&RequirementsTxt, FORMAT, "dev-only", "requirements-dev.txt");
        assert_eq!(names(&out.dependencies), ["pytest", "ruff"]);
        assert!(out.dependencies.iter().all(|d| d.direct));
    }

    #[test]
    fn includes_are_followed_once_and_cycles_end() {
        let out = extract_ok(&RequirementsTxt, FORMAT, "includes", "requirements.txt");
        assert!(out.diagnostics.is_empty(), "{:?}", out.diagnostics);
        assert_eq!(
            names(&out.dependencies),
            ["flask", "click", "itsdangerous", "urllib3", "gunicorn"]
        );
        let flask = one(&out.dependencies, "flask");
        assert_eq!(flask.source.path, "base.in");
        assert_eq!(flask.source.line, 2);
        let click = one(&out.dependencies, "click");
        assert_eq!(click.source.path, "common/shared.in");
        assert_eq!(click.source.line, 1);
        let gunicorn = one(&out.dependencies, "gunicorn");
        assert_eq!(gunicorn.source.path, "requirements.txt");
        assert_eq!(gunicorn.source.line, 4);
        // `-c` pins without requiring.
        let urllib3 = one(&out.dependencies, "urllib3");
        assert_eq!(urllib3.source.path, "pins.in");
        assert_eq!(urllib3.version.as_deref(), Some("2.2.1"));
        assert!(!urllib3.direct);
        assert!(flask.direct && click.direct);
    }

    #[test]
    fn included_files_the_walk_reads_are_not_followed() {
        let out = extract_ok(
            &RequirementsTxt,
            FORMAT,
            "includes",
            "requirements/prod.txt",
        );
        // `-r ../requirements.txt` is wanted on its own; only prod.txt's own line is listed.
        assert_eq!(names(&out.dependencies), ["sentry-sdk"]);
    }

    #[test]
    fn constraint_files_pin_without_requiring() {
        let out = extract_ok(&RequirementsTxt, FORMAT, "includes", "constraints.txt");
        let certifi = one(&out.dependencies, "certifi");
        assert_eq!(certifi.version.as_deref(), Some("2024.2.2"));
        assert!(!certifi.direct);
    }

    #[test]
    fn missing_and_escaping_includes_are_warnings() {
        let out = extract_ok(&RequirementsTxt, FORMAT, "bad-includes", "requirements.txt");
        assert_eq!(names(&out.dependencies), ["six"]);
        let codes: Vec<(&str, Option<u32>)> = out
            .diagnostics
            .iter()
            .map(|d| (d.code.as_str(), d.line))
            .collect();
        assert_eq!(
            codes,
            [
                ("include-unreadable", Some(1)),
                ("include-unreadable", Some(2)),
                ("invalid-requirement", Some(3)),
            ]
        );
    }

    #[test]
    fn git_path_url_and_editable_lines_are_kept_with_a_reason() {
        let out = extract_ok(&RequirementsTxt, FORMAT, "sources", "requirements.txt");
        assert!(out.diagnostics.is_empty(), "{:?}", out.diagnostics);
        let reason = |name: &str| {
            let d = one(&out.dependencies, name);
            let skip = d.skipped.as_ref().map(|s| (s.reason, s.detail.as_str()));
            (skip, d.source.line)
        };
        assert_eq!(
            reason("mylib"),
            (Some((SkipReason::Editable, "./libs/mylib#egg=mylib")), 2)
        );
        assert_eq!(
            reason("httpx"),
            (
                Some((
                    SkipReason::Editable,
                    "git+https://github.com/encode/httpx.git@0.27.0#egg=httpx"
                )),
                3
            )
        );
        assert_eq!(
            reason("rich"),
            (
                Some((
                    SkipReason::Git,
                    "git+https://github.com/Textualize/rich.git@v13.7.1"
                )),
                4
            )
        );
        assert_eq!(
            reason("pip"),
            (
                Some((
                    SkipReason::Url,
                    "https://github.com/pypa/pip/archive/22.0.2.zip"
                )),
                5
            )
        );
        assert_eq!(
            reason("local-tool"),
            (
                Some((
                    SkipReason::Path,
                    "./wheels/local_tool-0.3.0-py3-none-any.whl"
                )),
                6
            )
        );
        assert_eq!(
            reason("attrs"),
            (
                Some((
                    SkipReason::Url,
                    "https://files.example.com/attrs-23.2.0.tar.gz"
                )),
                7
            )
        );
        assert_eq!(
            reason("vendored"),
            (Some((SkipReason::Path, "file:../vendored")), 8)
        );
        // `-e .` has no name to give; the location stands in for it.
        let dot = out
            .dependencies
            .iter()
            .find(|d| d.source.line == 9)
            .expect("`-e .` is kept");
        assert_eq!(dot.name, ".");
        assert!(out.dependencies.iter().all(|d| d.direct));
    }

    #[test]
    fn invalid_lines_are_warnings_and_reading_goes_on() {
        let out = extract_ok(&RequirementsTxt, FORMAT, "malformed", "requirements.txt");
        assert_eq!(names(&out.dependencies), ["requests", "idna"]);
        let lines: Vec<Option<u32>> = out.diagnostics.iter().map(|d| d.line).collect();
        assert_eq!(lines, [Some(2), Some(3), Some(4), Some(6)]);
        assert!(
            out.diagnostics
                .iter()
                .all(|d| d.code == "invalid-requirement")
        );
    }

    #[test]
    fn a_file_that_is_not_there_is_an_error() {
        let r = extract_at(
            &RequirementsTxt,
            &fixture_dir(FORMAT, "empty"),
            "requirements-missing.txt",
        );
        assert!(r.is_err());
    }

    #[test]
    fn hostile_lines_never_panic() {
        let dir = tempfile::tempdir().expect("temp dir");
        let text = [
            "-",
            "--",
            "-é",
            "--é=",
            "-ré",
            "é==1",
            "#",
            "\\",
            "foo[",
            "foo @ ",
            "[",
            "@",
            "foo (",
            "foo[é]",
            "-e",
            "-e é#egg=é",
            "./é.whl",
            "https://é/x-1.tar.gz",
            "a-\\",
            "x==1 -",
            "\u{feff}requests",
            "-c ../../../etc/passwd",
            "-r requirements.txt",
        ]
        .join("\n");
        std::fs::write(dir.path().join("requirements.txt"), text).expect("write");
        let out = extract_at(&RequirementsTxt, dir.path(), "requirements.txt").expect("read");
        assert!(!out.diagnostics.is_empty());
    }

    #[test]
    fn logical_lines_join_continuations_and_keep_first_line_numbers() {
        let lines = logical_lines("a \\\n  b\n# c \\\nd\ne \\");
        assert_eq!(
            lines,
            [
                (1, "a   b".to_string()),
                (3, "# c \\".to_string()),
                (4, "d".to_string()),
                (5, "e ".to_string())
            ]
        );
    }

    #[test]
    fn options_split_in_every_spelling() {
        assert_eq!(split_option("-r base.in"), ("-r", "base.in"));
        assert_eq!(split_option("-rbase.in"), ("-r", "base.in"));
        assert_eq!(
            split_option("--requirement=base.in"),
            ("--requirement", "base.in")
        );
        assert_eq!(
            split_option("--requirement  base.in"),
            ("--requirement", "base.in")
        );
        assert_eq!(split_option("--pre"), ("--pre", ""));
        assert_eq!(
            split_option("-e git+https://x/y.git#egg=y"),
            ("-e", "git+https://x/y.git#egg=y")
        );
    }
}
