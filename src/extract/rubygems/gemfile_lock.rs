//! `Gemfile.lock` (and Bundler's alternative name `gems.locked`): every gem Bundler resolved.
//!
//! The file is sections of indented lines. Under `GEM`, `GIT` and `PATH`, the `specs:` block
//! lists locked gems at four spaces (`name (version)`) and their own dependencies at six (not
//! packages of their own, so not reported). `DEPENDENCIES` lists the Gemfile's gems at two
//! spaces with their requirement; those locked gems are direct. `RUBY VERSION` pins Ruby.
//! Platform-specific gems (`nokogiri (1.16.5-x86_64-linux)`) report the version without the
//! platform, once per version.

use crate::extract::{ExtractError, Extracted, Extractor, ManifestFile};
use crate::{Ecosystem, SkipReason};
use std::collections::{BTreeMap, BTreeSet};

pub struct GemfileLock;

impl Extractor for GemfileLock {
    fn id(&self) -> &'static str {
        "rubygems/gemfile-lock"
    }

    fn wants(&self, _path: &str, file_name: &str) -> bool {
        file_name == "Gemfile.lock" || file_name == "gems.locked"
    }

    fn extract(&self, file: &ManifestFile<'_>) -> Result<Extracted, ExtractError> {
        let lock = Lockfile::parse(file.text)?;
        let mut dependencies = Vec::new();
        let mut seen = BTreeSet::new();
        for spec in &lock.specs {
            if !seen.insert((spec.name, spec.version, spec.source.clone())) {
                continue;
            }
            let mut dep = file
                .dep(Ecosystem::RubyGems, spec.name, spec.line)
                .locked(spec.version);
            if let Some(declared) = lock.declared.get(spec.name) {
                dep = match declared.requirement {
                    Some(requirement) => dep.requires(requirement),
                    None => dep.direct(true),
                };
            }
            dependencies.push(match &spec.source {
                Source::Registry => dep,
                Source::Git(detail) => dep.skip(SkipReason::Git, detail.clone()),
                Source::Path(detail) => dep.skip(SkipReason::Path, detail.clone()),
                Source::Other(detail) => dep.skip(SkipReason::Unsupported, detail.clone()),
            });
        }
        // A declared gem that nothing locks (one for another platform) is still reported.
        let locked: BTreeSet<&str> = lock.specs.iter().map(|s| s.name).collect();
        for (name, declared) in &lock.declared {
            if !locked.contains(name) {
                let dep = file
                    .dep(Ecosystem::RubyGems, name, declared.line)
                    .direct(true);
                dependencies.push(match declared.requirement {
                    Some(requirement) => dep.requires(requirement),
                    None => dep,
                });
            }
        }
        if let Some((version, line)) = lock.ruby {
            dependencies.push(
                file.dep(Ecosystem::Ruby, "ruby", line)
                    .locked(version)
                    .direct(true),
            );
        }
        dependencies.sort_by_key(|d| d.source.line);
        Ok(Extracted::from_dependencies(dependencies))
    }
}

/// Where the gems of a `GEM`/`GIT`/`PATH` section come from, with the detail for a skip.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord)]
enum Source {
    Registry,
    Git(String),
    Path(String),
    Other(String),
}

/// One `    name (version)` line of a `specs:` block.
struct Spec<'a> {
    name: &'a str,
    version: &'a str,
    source: Source,
    line: u32,
}

/// One `  name (requirement)` line of `DEPENDENCIES`.
struct Declared<'a> {
    requirement: Option<&'a str>,
    line: u32,
}

enum Section {
    /// A source section; `kind` is its header, `in_specs` whether `specs:` has begun.
    Source {
        kind: &'static str,
        remote: Option<String>,
        revision: Option<String>,
        in_specs: bool,
    },
    Dependencies,
    RubyVersion,
    /// `PLATFORMS`, `BUNDLED WITH`, `CHECKSUMS` and sections newer Bundlers may add.
    Ignored,
}

#[derive(Default)]
struct Lockfile<'a> {
    specs: Vec<Spec<'a>>,
    declared: BTreeMap<&'a str, Declared<'a>>,
    ruby: Option<(&'a str, u32)>,
}

impl<'a> Lockfile<'a> {
    fn parse(text: &'a str) -> Result<Lockfile<'a>, ExtractError> {
        let mut lock = Lockfile::default();
        let mut section: Option<Section> = None;
        for (number, raw) in text.lines().enumerate() {
            let line = u32::try_from(number + 1).unwrap_or(u32::MAX);
            let raw = raw.trim_end();
            if raw.is_empty() {
                continue;
            }
            if ["<<<<<<<", "=======", ">>>>>>>"]
                .iter()
                .any(|m| raw.starts_with(m))
            {
                return Err(syntax(line, "merge conflict marker"));
            }
            let content = raw.trim_start_matches(' ');
            let indent = raw.len() - content.len();
            if indent == 0 {
                section = Some(section_for(content));
                continue;
            }
            let Some(current) = section.as_mut() else {
                return Err(syntax(line, "indented line before any section header"));
            };
            match current {
                Section::Source {
                    kind,
                    remote,
                    revision,
                    in_specs,
                } => match indent {
                    2 => {
                        if content == "specs:" {
                            *in_specs = true;
                        } else if let Some(value) = content.strip_prefix("remote: ") {
                            *remote = Some(value.to_string());
                        } else if let Some(value) = content.strip_prefix("revision: ") {
                            *revision = Some(value.to_string());
                        }
                    }
                    4 if *in_specs => {
                        let (name, version) = name_and_parenthesized(content)
                            .and_then(|(n, v)| Some((n, v?)))
                            .ok_or_else(|| syntax(line, "expected `name (version)` in specs"))?;
                        let version = version.split('-').next().unwrap_or(version);
                        let source = source_of(kind, remote.as_deref(), revision.as_deref());
                        lock.specs.push(Spec {
                            name,
                            version,
                            source,
                            line,
                        });
                    }
                    _ => {}
                },
                Section::Dependencies if indent == 2 => {
                    let (name, requirement) = name_and_parenthesized(content)
                        .ok_or_else(|| syntax(line, "expected `name` or `name (requirement)`"))?;
                    let name = name.strip_suffix('!').unwrap_or(name);
                    lock.declared.insert(name, Declared { requirement, line });
                }
                Section::RubyVersion => {
                    let version = content
                        .strip_prefix("ruby ")
                        .and_then(|rest| rest.split_whitespace().next())
                        .ok_or_else(|| syntax(line, "expected `ruby <version>`"))?;
                    lock.ruby = Some((without_patch_level(version), line));
                }
                Section::Dependencies | Section::Ignored => {}
            }
        }
        Ok(lock)
    }
}

fn section_for(header: &str) -> Section {
    let source = |kind| Section::Source {
        kind,
        remote: None,
        revision: None,
        in_specs: false,
    };
    match header {
        "GEM" => source("GEM"),
        "GIT" => source("GIT"),
        "PATH" => source("PATH"),
        "PLUGIN SOURCE" => source("PLUGIN SOURCE"),
        "DEPENDENCIES" => Section::Dependencies,
        "RUBY VERSION" => Section::RubyVersion,
        _ => Section::Ignored,
    }
}

fn source_of(kind: &str, remote: Option<&str>, revision: Option<&str>) -> Source {
    let remote = remote.unwrap_or("(no remote)").to_string();
    match kind {
        "GEM" => Source::Registry,
        "GIT" => Source::Git(match revision {
            Some(revision) => format!("{remote} ({revision})"),
            None => remote,
        }),
        "PATH" => Source::Path(remote),
        other => Source::Other(format!("{other} {remote}")),
    }
}

/// Splits `name` or `name (text)` into the name and the text in parentheses.
fn name_and_parenthesized(content: &str) -> Option<(&str, Option<&str>)> {
    match content.split_once(' ') {
        None => Some((content, None)),
        Some((name, rest)) => {
            let inner = rest.strip_prefix('(')?.strip_suffix(')')?;
            (!name.is_empty() && !inner.is_empty()).then_some((name, Some(inner)))
        }
    }
}

/// `3.2.2p53` → `3.2.2`: the patch level is a build number of MRI, not part of the version.
fn without_patch_level(version: &str) -> &str {
    match version.rsplit_once('p') {
        Some((base, level))
            if !level.is_empty()
                && level.bytes().all(|b| b.is_ascii_digit())
                && base.bytes().all(|b| b.is_ascii_digit() || b == b'.') =>
        {
            base
        }
        _ => version,
    }
}

fn syntax(line: u32, message: &str) -> ExtractError {
    ExtractError::Syntax {
        line,
        message: message.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::Dependency;
    use crate::extract::extract_at;
    use std::path::PathBuf;

    fn run(case: &str) -> Result<Extracted, ExtractError> {
        let root = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
            .join("tests/fixtures/extract/rubygems/gemfile-lock")
            .join(case);
        extract_at(&GemfileLock, &root, "Gemfile.lock")
    }

    fn find<'a>(out: &'a Extracted, name: &str) -> &'a Dependency {
        out.dependencies
            .iter()
            .find(|d| d.name == name)
            .unwrap_or_else(|| panic!("no entry for {name}: {:#?}", out.dependencies))
    }

    #[test]
    fn wants_both_lockfile_names_only() {
        assert!(GemfileLock.wants("Gemfile.lock", "Gemfile.lock"));
        assert!(GemfileLock.wants("app/gems.locked", "gems.locked"));
        assert!(!GemfileLock.wants("Gemfile", "Gemfile"));
        assert!(!GemfileLock.wants("Gemfile.lock.bak", "Gemfile.lock.bak"));
        assert!(!GemfileLock.wants("MyGemfile.lock", "MyGemfile.lock"));
    }

    #[test]
    fn empty_lock_has_only_its_bundler_line() {
        let out = run("empty").expect("parses");
        assert!(out.dependencies.is_empty(), "{:#?}", out.dependencies);
    }

    #[test]
    fn one_package_with_its_dependencies_and_ruby() {
        let out = run("one-package").expect("parses");
        let names: Vec<&str> = out.dependencies.iter().map(|d| d.name.as_str()).collect();
        assert_eq!(
            names,
            ["rack", "rack-session", "ruby"],
            "six-space lines are not gems"
        );

        let rack = find(&out, "rack");
        assert_eq!(rack.version.as_deref(), Some("3.0.11"));
        assert!(!rack.direct, "only a dependency of rack-session");
        assert_eq!(rack.source.line, 4);

        let session = find(&out, "rack-session");
        assert_eq!(session.version.as_deref(), Some("2.0.0"));
        assert_eq!(session.requirement.as_deref(), Some("~> 2.0"));
        assert!(session.direct);
        assert_eq!(session.source.line, 5);

        let ruby = find(&out, "ruby");
        assert_eq!(ruby.ecosystem, Ecosystem::Ruby);
        assert_eq!(ruby.version.as_deref(), Some("3.2.2"));
        assert_eq!(ruby.source.line, 15);
    }

    #[test]
    fn platform_variants_report_one_version() {
        let out = run("one-package-platforms").expect("parses");
        let nokogiri: Vec<_> = out
            .dependencies
            .iter()
            .filter(|d| d.name == "nokogiri")
            .map(|d| (d.version.as_deref(), d.source.line, d.direct))
            .collect();
        assert_eq!(nokogiri, [(Some("1.16.5"), 5, true)]);
        let requirement = find(&out, "nokogiri").requirement.as_deref();
        assert_eq!(requirement, Some(">= 1.16"));
    }

    #[test]
    fn rails_app_with_git_and_path_sources() {
        let out = run("git-path-sources").expect("parses");

        let rails = find(&out, "rails");
        assert_eq!(rails.version.as_deref(), Some("7.1.3.4"));
        assert!(rails.direct, "listed with `!` under DEPENDENCIES");
        assert_eq!(
            rails
                .skipped
                .as_ref()
                .map(|s| (s.reason, s.detail.as_str())),
            Some((
                SkipReason::Git,
                "https://github.com/rails/rails.git (0fd2c5e1e3a4b3d3ccf8d6ad0dc8b7b6a7b5d2c1)"
            ))
        );
        let actionpack = find(&out, "actionpack");
        assert_eq!(
            actionpack.skipped.as_ref().map(|s| s.reason),
            Some(SkipReason::Git)
        );
        assert!(!actionpack.direct);

        let engine = find(&out, "billing-engine");
        assert_eq!(
            engine
                .skipped
                .as_ref()
                .map(|s| (s.reason, s.detail.as_str())),
            Some((SkipReason::Path, "engines/billing"))
        );
        assert_eq!(engine.version.as_deref(), Some("0.1.0"));

        let pg = find(&out, "pg");
        assert!(pg.skipped.is_none());
        assert_eq!(pg.requirement.as_deref(), Some("~> 1.5"));

        let windows_only = find(&out, "tzinfo-data");
        assert_eq!(
            windows_only.version, None,
            "declared but locked for no platform"
        );
        assert!(windows_only.direct);
        assert_eq!(windows_only.source.line, 41);

        let debug = find(&out, "debug");
        assert!(debug.direct);
        assert_eq!(debug.requirement, None);
        assert_eq!(debug.version.as_deref(), Some("1.9.2"));
    }

    #[test]
    fn truncated_spec_line_is_an_error_with_its_line() {
        let err = run("malformed").expect_err("truncated");
        assert_eq!(err.line(), Some(6));
    }

    #[test]
    fn conflict_markers_are_an_error() {
        let repo = crate::repo::Repo::open(std::path::Path::new("."), 1024).expect("cwd");
        let file = ManifestFile {
            path: "Gemfile.lock",
            text: "GEM\n  remote: https://rubygems.org/\n  specs:\n<<<<<<< HEAD\n    rack (3.0.0)\n",
            repo: &repo,
        };
        let err = GemfileLock.extract(&file).expect_err("conflict");
        assert_eq!(err.line(), Some(4));
    }

    #[test]
    fn ruby_patch_level_is_dropped_only_when_it_is_one() {
        assert_eq!(without_patch_level("3.2.2p53"), "3.2.2");
        assert_eq!(without_patch_level("3.3.0"), "3.3.0");
        assert_eq!(without_patch_level("3.4.0.preview1"), "3.4.0.preview1");
    }
}
