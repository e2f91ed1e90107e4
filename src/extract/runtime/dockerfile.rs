//! Dockerfile and Containerfile `FROM` lines: the base images a build starts from. Official
//! runtime images (`python:3.11-slim`) are runtime pins; other images are `docker` entries.
//!
//! Global `ARG`s (declared before the first `FROM`) are substituted into `FROM` the way
//! BuildKit does; an image that still names an unset variable is kept as an unsupported skip.
//! A `FROM` that names an earlier stage, or `scratch`, is not a dependency.

use super::image::{ImageRef, image_dependency};
use crate::dependency::{Dependency, SkipReason};
use crate::ecosystem::Ecosystem;
use crate::extract::{ExtractError, Extracted, Extractor, ManifestFile};
use regex::Regex;
use std::collections::HashMap;
use std::sync::LazyLock;

/// `Dockerfile`, `Dockerfile.<variant>`, `<name>.Dockerfile` and the Podman spellings, in any
/// case. BuildKit's per-Dockerfile ignore files (`Dockerfile.dockerignore`) are not Dockerfiles.
pub struct Dockerfile;

impl Extractor for Dockerfile {
    fn id(&self) -> &'static str {
        "runtime/dockerfile"
    }

    fn wants(&self, _path: &str, file_name: &str) -> bool {
        let name = file_name.to_ascii_lowercase();
        if name.ends_with(".dockerignore") {
            return false;
        }
        ["dockerfile", "containerfile"].iter().any(|base| {
            name == *base
                || name.starts_with(&format!("{base}."))
                || name.ends_with(&format!(".{base}"))
        })
    }

    fn extract(&self, file: &ManifestFile<'_>) -> Result<Extracted, ExtractError> {
        let mut found = Extracted::default();
        let mut globals: HashMap<String, Option<String>> = HashMap::new();
        let mut stages: Vec<String> = Vec::new();
        let mut saw_from = false;
        let mut saw_instruction = false;
        for instruction in instructions(file.text) {
            saw_instruction = true;
            match instruction.keyword.as_str() {
                "ARG" if !saw_from => declare_globals(&instruction.args, &mut globals),
                "FROM" => {
                    saw_from = true;
                    let mut words = instruction
                        .args
                        .split_whitespace()
                        .skip_while(|w| w.starts_with("--"));
                    let Some(image) = words.next() else {
                        found.diagnostics.push(file.warning(
                            "dockerfile-from",
                            "`FROM` names no image",
                            Some(instruction.line),
                        ));
                        continue;
                    };
                    let stage = match (words.next(), words.next()) {
                        (Some(kw), Some(name)) if kw.eq_ignore_ascii_case("as") => {
                            Some(name.to_ascii_lowercase())
                        }
                        _ => None,
                    };
                    found.dependencies.extend(from_dependency(
                        file,
                        image,
                        instruction.line,
                        &globals,
                        &stages,
                    ));
                    stages.extend(stage);
                }
                _ => {}
            }
        }
        if saw_instruction && !saw_from {
            found.diagnostics.push(file.warning(
                "dockerfile-from",
                "no `FROM` instruction: not a Dockerfile?",
                None,
            ));
        }
        Ok(found)
    }
}

/// The entry for one `FROM` image, or `None` for `scratch` and earlier stages.
fn from_dependency(
    file: &ManifestFile<'_>,
    written: &str,
    line: u32,
    globals: &HashMap<String, Option<String>>,
    stages: &[String],
) -> Option<Dependency> {
    match substitute(written, globals) {
        Ok(image) => {
            let lower = image.to_ascii_lowercase();
            if lower == "scratch" || stages.contains(&lower) {
                return None;
            }
            Some(image_dependency(file, &image, line))
        }
        Err(variable) => Some(unresolved(file, written, &variable, line)),
    }
}

/// An image that names a variable no global `ARG` sets. When the variable is only in the tag
/// (`python:${PY}-slim`), the image is still known, so the entry keeps its ecosystem and name.
fn unresolved(file: &ManifestFile<'_>, written: &str, variable: &str, line: u32) -> Dependency {
    let detail = format!("`{written}` uses `{variable}`, which no `ARG` before `FROM` sets");
    let before_variable = written.split('$').next().unwrap_or("");
    let after_slash = before_variable.rfind('/').map_or(0, |i| i + 1);
    let known = before_variable[after_slash..]
        .find(':')
        .and_then(|colon| ImageRef::parse(&before_variable[..after_slash + colon]));
    let dep = match known {
        Some(image) => match image.runtime() {
            Some((ecosystem, runtime)) => file.dep(ecosystem, runtime, line),
            None => file.dep(Ecosystem::Docker, &image.name, line),
        },
        None => file.dep(Ecosystem::Docker, written, line),
    };
    dep.direct(true).skip(SkipReason::Unsupported, detail)
}

/// Records `ARG NAME[=default] …` declarations, substituting earlier globals into defaults.
fn declare_globals(args: &str, globals: &mut HashMap<String, Option<String>>) {
    for word in shell_words(args) {
        let (name, default) = match word.split_once('=') {
            Some((name, value)) => (name, Some(value)),
            None => (word.as_str(), None),
        };
        let value = default.and_then(|v| substitute(v, globals).ok());
        match (value, globals.get(name)) {
            (None, Some(Some(_))) => {}
            (value, _) => {
                globals.insert(name.to_string(), value);
            }
        }
    }
}

/// Splits on whitespace, honouring single and double quotes (which are removed).
fn shell_words(text: &str) -> Vec<String> {
    let mut words = Vec::new();
    let mut word = String::new();
    let mut in_word = false;
    let mut quote: Option<char> = None;
    for c in text.chars() {
        match quote {
            Some(q) if c == q => quote = None,
            Some(_) => word.push(c),
            None if c == '"' || c == '\'' => {
                quote = Some(c);
                in_word = true;
            }
            None if c.is_whitespace() => {
                if in_word {
                    words.push(std::mem::take(&mut word));
                    in_word = false;
                }
            }
            None => {
                word.push(c);
                in_word = true;
            }
        }
    }
    if in_word {
        words.push(word);
    }
    words
}

/// Expands `$NAME`, `${NAME}`, `${NAME:-default}`, `${NAME-default}`, `${NAME:+alt}` and
/// `${NAME+alt}` from the global ARGs. `Err` carries the first variable with no value.
fn substitute(text: &str, globals: &HashMap<String, Option<String>>) -> Result<String, String> {
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    while let Some(dollar) = rest.find('$') {
        out.push_str(&rest[..dollar]);
        let after = &rest[dollar + 1..];
        if let Some(braced) = after.strip_prefix('{') {
            let close = braced.find('}').ok_or_else(|| format!("${{{braced}"))?;
            let inner = &braced[..close];
            let name_end = inner
                .find(|c: char| !(c.is_ascii_alphanumeric() || c == '_'))
                .unwrap_or(inner.len());
            let (name, modifier) = inner.split_at(name_end);
            let value = globals.get(name).cloned().flatten();
            let expanded = match (modifier, value) {
                ("", Some(v)) => v,
                (m, Some(v)) if m.starts_with(":-") && !v.is_empty() => v,
                (m, Some(v)) if m.starts_with('-') => v,
                (m, _) if m.starts_with(":-") => substitute(&m[2..], globals)?,
                (m, _) if m.starts_with('-') => substitute(&m[1..], globals)?,
                (m, Some(v)) if m.starts_with(":+") && !v.is_empty() => {
                    substitute(&m[2..], globals)?
                }
                (m, Some(_)) if m.starts_with('+') => substitute(&m[1..], globals)?,
                _ => return Err(format!("${{{inner}}}")),
            };
            out.push_str(&expanded);
            rest = &braced[close + 1..];
        } else {
            let name_end = after
                .find(|c: char| !(c.is_ascii_alphanumeric() || c == '_'))
                .unwrap_or(after.len());
            let name = &after[..name_end];
            match globals.get(name).cloned().flatten() {
                Some(v) if !name.is_empty() => out.push_str(&v),
                _ => return Err(format!("${name}")),
            }
            rest = &after[name_end..];
        }
    }
    out.push_str(rest);
    Ok(out)
}

/// One logical Dockerfile instruction: continuation lines joined, comments dropped.
#[derive(Debug, PartialEq, Eq)]
struct Instruction {
    /// Upper-cased (`from` and `FROM` are the same instruction).
    keyword: String,
    args: String,
    /// The line the instruction starts on.
    line: u32,
}

static HEREDOC: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r#"(?:^|\s)<<-?(?:"([A-Za-z_]\w*)"|'([A-Za-z_]\w*)'|([A-Za-z_]\w*))"#)
        .expect("heredoc pattern is valid")
});

/// Splits a Dockerfile into instructions, honouring the `escape` parser directive, line
/// continuations, comment lines and BuildKit heredocs (whose bodies are not instructions).
fn instructions(text: &str) -> Vec<Instruction> {
    let escape = escape_char(text);
    let mut out = Vec::new();
    let mut lines = text.lines().zip(1u32..);
    let is_skippable = |l: &str| l.trim().is_empty() || l.trim_start().starts_with('#');
    while let Some((first, line)) = lines.next() {
        if is_skippable(first) {
            continue;
        }
        let mut logical = String::new();
        let mut current = first.trim_end();
        while let Some(body) = current.strip_suffix(escape) {
            logical.push_str(body);
            logical.push(' ');
            match lines.by_ref().find(|(l, _)| !is_skippable(l)) {
                Some((next, _)) => current = next.trim_end(),
                None => {
                    current = "";
                    break;
                }
            }
        }
        logical.push_str(current);
        let logical = logical.trim();
        let (keyword, args) = logical
            .split_once(char::is_whitespace)
            .unwrap_or((logical, ""));
        let keyword = keyword.to_ascii_uppercase();
        if matches!(keyword.as_str(), "RUN" | "COPY" | "ADD") {
            for terminator in HEREDOC.captures_iter(args) {
                let word = (1..=3)
                    .find_map(|i| terminator.get(i))
                    .map_or("", |m| m.as_str());
                // The body ends at a line holding only the terminator (tabs allowed by `<<-`).
                for (body_line, _) in lines.by_ref() {
                    if body_line.trim() == word {
                        break;
                    }
                }
            }
        }
        out.push(Instruction {
            keyword,
            args: args.trim().to_string(),
            line,
        });
    }
    out
}

/// The escape character: `\` unless a leading `# escape=`` ` parser directive changes it.
fn escape_char(text: &str) -> char {
    static DIRECTIVE: LazyLock<Regex> = LazyLock::new(|| {
        Regex::new(r"^\s*#\s*([A-Za-z]+)\s*=\s*(\S+)\s*$").expect("directive pattern is valid")
    });
    for line in text.lines() {
        let Some(caps) = DIRECTIVE.captures(line) else {
            break;
        };
        if caps[1].eq_ignore_ascii_case("escape") && &caps[2] == "`" {
            return '`';
        }
    }
    '\\'
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::extract::extract_at;
    use std::path::Path;

    const FIXTURES: &str = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/tests/fixtures/extract/runtime/dockerfile"
    );

    fn extract(case: &str, file: &str) -> Extracted {
        let root = Path::new(FIXTURES).join(case);
        match extract_at(&Dockerfile, &root, file) {
            Ok(found) => found,
            Err(e) => panic!("{case}/{file}: {e}"),
        }
    }

    /// (ecosystem, name, version, line, skipped?)
    fn summary(found: &Extracted) -> Vec<(Ecosystem, &str, Option<&str>, u32, bool)> {
        found
            .dependencies
            .iter()
            .map(|d| {
                (
                    d.ecosystem,
                    d.name.as_str(),
                    d.version.as_deref(),
                    d.source.line,
                    d.skipped.is_some(),
                )
            })
            .collect()
    }

    #[test]
    fn wants_dockerfiles_and_variants_only() {
        for yes in [
            "Dockerfile",
            "Dockerfile.dev",
            "api.Dockerfile",
            "my.dockerfile",
            "dockerfile",
            "Containerfile",
            "Containerfile.prod",
        ] {
            assert!(Dockerfile.wants(&format!("svc/{yes}"), yes), "{yes}");
        }
        for no in [
            "Dockerfile.dockerignore",
            ".dockerignore",
            "Dockerfiles",
            "MyDockerfile",
            "docker-compose.yml",
            "Dockerfile-dev",
        ] {
            assert!(!Dockerfile.wants(no, no), "{no}");
        }
    }

    #[test]
    fn empty_file_has_no_entries_and_no_warning() {
        let found = extract("empty", "Dockerfile");
        assert!(found.dependencies.is_empty());
        assert!(found.diagnostics.is_empty());
    }

    #[test]
    fn one_runtime_image() {
        let found = extract("one", "Dockerfile");
        assert_eq!(
            summary(&found),
            [(Ecosystem::Python, "python", Some("3.11"), 1, false)]
        );
        let dep = &found.dependencies[0];
        assert!(dep.direct);
        assert_eq!(dep.source.path, "Dockerfile");
    }

    #[test]
    fn multi_stage_with_global_args() {
        let found = extract("multi-stage", "Dockerfile");
        assert_eq!(
            summary(&found),
            [
                (Ecosystem::NodeJs, "node", Some("20"), 5, false),
                (Ecosystem::GoToolchain, "go", Some("1.22"), 11, false),
                (Ecosystem::Docker, "alpine", Some("3.19"), 16, false),
                (
                    Ecosystem::Docker,
                    "gcr.io/distroless/static-debian12",
                    Some("nonroot"),
                    21,
                    false
                ),
            ]
        );
        assert!(found.diagnostics.is_empty());
    }

    #[test]
    fn weird_forms() {
        let found = extract("weird", "Dockerfile.dev");
        assert_eq!(
            summary(&found),
            [
                (Ecosystem::Ruby, "ruby", Some("3.2"), 4, false),
                (Ecosystem::Php, "php", Some("8.2"), 7, false),
                (Ecosystem::NodeJs, "node", None, 15, true),
                (Ecosystem::Python, "python", None, 16, true),
                (Ecosystem::Rust, "rust", None, 17, false),
                (
                    Ecosystem::Docker,
                    "ghcr.io/acme/tools",
                    Some("sha256:0123456789abcdef"),
                    18,
                    false
                ),
                (Ecosystem::Docker, "ubuntu", None, 19, false),
                (Ecosystem::Python, "python", None, 20, true),
                (Ecosystem::Docker, "${BASE_IMAGE}", None, 21, true),
            ]
        );
        let details: Vec<&str> = found
            .dependencies
            .iter()
            .filter_map(|d| d.skipped.as_ref().map(|s| s.detail.as_str()))
            .collect();
        assert_eq!(
            details,
            [
                "tag `lts-alpine` of `node:lts-alpine` names no version",
                "`python@sha256:feedface` is pinned by digest only",
                "`python:${PY}-slim` uses `${PY}`, which no `ARG` before `FROM` sets",
                "`${BASE_IMAGE}` uses `${BASE_IMAGE}`, which no `ARG` before `FROM` sets",
            ]
        );
    }

    #[test]
    fn backtick_escape_directive() {
        let found = extract("windows", "Dockerfile");
        assert_eq!(
            summary(&found),
            [(
                Ecosystem::Docker,
                "mcr.microsoft.com/windows/servercore",
                Some("ltsc2022"),
                3,
                false
            )]
        );
    }

    #[test]
    fn malformed_gives_warnings_not_errors() {
        let found = extract("malformed", "Dockerfile");
        assert!(found.dependencies.is_empty());
        assert_eq!(found.diagnostics.len(), 1);
        assert_eq!(found.diagnostics[0].line, Some(2));
        let not_a_dockerfile = extract("malformed", "notes.Dockerfile");
        assert!(not_a_dockerfile.dependencies.is_empty());
        assert_eq!(not_a_dockerfile.diagnostics.len(), 1);
    }

    #[test]
    fn substitution_forms() {
        let mut globals = HashMap::new();
        globals.insert("A".to_string(), Some("1".to_string()));
        globals.insert("E".to_string(), Some(String::new()));
        globals.insert("U".to_string(), None);
        let sub = |t: &str| substitute(t, &globals);
        assert_eq!(sub("x:$A"), Ok("x:1".into()));
        assert_eq!(sub("x:${A}-y"), Ok("x:1-y".into()));
        assert_eq!(sub("${U:-d}"), Ok("d".into()));
        assert_eq!(sub("${E:-d}"), Ok("d".into()));
        assert_eq!(sub("${E-d}"), Ok("".into()));
        assert_eq!(sub("${A:+alt}"), Ok("alt".into()));
        assert_eq!(sub("${U}"), Err("${U}".into()));
        assert_eq!(sub("$NOPE"), Err("$NOPE".into()));
        assert_eq!(sub("${A"), Err("${A".into()));
        assert_eq!(sub("$"), Err("$".into()));
    }

    #[test]
    fn hostile_input_does_not_panic() {
        let repo_dir = tempfile::tempdir().unwrap_or_else(|e| panic!("{e}"));
        let texts = [
            "FROM\\",
            "FROM ${",
            "\\\n\\\n\\",
            "RUN <<EOF\nFROM python:3\n",
            "FROM a AS",
            "FROM --platform=x",
            "ARG A=${A}\nFROM $A",
            "FROM ${A:-${B:-${C:-python:3}}}",
        ];
        for (i, text) in texts.iter().enumerate() {
            let name = format!("Dockerfile.{i}");
            std::fs::write(repo_dir.path().join(&name), text).unwrap_or_else(|e| panic!("{e}"));
            assert!(extract_at(&Dockerfile, repo_dir.path(), &name).is_ok());
        }
    }
}
