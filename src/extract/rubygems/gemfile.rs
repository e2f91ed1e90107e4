//! `Gemfile` (and `gems.rb`): the gems a Ruby project declares, read line by line.
//!
//! A Gemfile is Ruby code; ecowatch reads the declarative subset Bundler documents: `gem` lines
//! with requirements and options (`group:`, `git:`, `github:`, `path:`, `source:`), the blocks
//! `group`, `git`, `path`, `source`, `platforms` and plain `if`/`unless` around them, and the
//! `ruby` pin. Gems only in the `development` and `test` groups are dev dependencies. Anything
//! computed at run time is beyond a line reader: such a `gem` line is kept with a skip.

use crate::extract::{ExtractError, Extracted, Extractor, ManifestFile};
use crate::{Dependency, Ecosystem, SkipReason};

pub struct Gemfile;

/// Groups whose gems never run in production.
const DEV_GROUPS: &[&str] = &["development", "test"];

impl Extractor for Gemfile {
    fn id(&self) -> &'static str {
        "rubygems/gemfile"
    }

    fn wants(&self, _path: &str, file_name: &str) -> bool {
        file_name == "Gemfile" || file_name == "gems.rb"
    }

    fn extract(&self, file: &ManifestFile<'_>) -> Result<Extracted, ExtractError> {
        let mut blocks: Vec<(Block, u32)> = Vec::new();
        let mut dependencies = Vec::new();
        for (statement, line) in statements(file.text) {
            let (verb, rest) = statement
                .split_once(|c: char| c.is_whitespace() || c == '(')
                .unwrap_or((statement.as_str(), ""));
            let rest = rest.trim().trim_end_matches(')');
            match verb {
                "end" => {
                    blocks
                        .pop()
                        .ok_or_else(|| syntax(line, "`end` without an open block"))?;
                }
                "if" | "unless" | "case" | "begin" | "while" | "until" => {
                    blocks.push((Block::Other, line));
                }
                "gem" => dependencies.push(gem(file, rest, line, &blocks)?),
                "ruby" => dependencies.push(ruby(file, rest, line)?),
                _ if opens_block(&statement) => blocks.push((Block::from_opener(verb, rest), line)),
                _ => {}
            }
        }
        if let Some((_, line)) = blocks.last() {
            return Err(syntax(*line, "block is never closed with `end`"));
        }
        Ok(Extracted::from_dependencies(dependencies))
    }
}

/// An open `do ... end` (or `if ... end`) block and what it means for the gems inside.
#[derive(Debug)]
enum Block {
    Group(Vec<String>),
    Git(String),
    Path(String),
    Source(String),
    Other,
}

impl Block {
    fn from_opener(verb: &str, rest: &str) -> Block {
        let head = rest.trim_end_matches("do").trim().trim_end_matches(')');
        let args = split_args(head);
        let first = args.first().and_then(|a| string_literal(a));
        match (verb, first) {
            ("group", _) => Block::Group(args.iter().filter_map(|a| symbol(a)).collect()),
            ("git" | "github", Some(url)) => Block::Git(url.to_string()),
            ("path", Some(dir)) => Block::Path(dir.to_string()),
            ("source", Some(url)) => Block::Source(url.to_string()),
            _ => Block::Other,
        }
    }
}

/// Logical statements with their first line: comments removed, lines ending in `,` or `\`
/// joined with the next.
fn statements(text: &str) -> Vec<(String, u32)> {
    let mut out = Vec::new();
    let mut pending: Option<(String, u32)> = None;
    for (number, raw) in text.lines().enumerate() {
        let line = u32::try_from(number + 1).unwrap_or(u32::MAX);
        let code = without_comment(raw).trim();
        let (mut statement, start) = match pending.take() {
            Some((mut s, start)) => {
                s.push(' ');
                s.push_str(code);
                (s, start)
            }
            None if code.is_empty() => continue,
            None => (code.to_string(), line),
        };
        if statement.ends_with(',') || statement.ends_with('\\') {
            statement = statement.trim_end_matches('\\').to_string();
            pending = Some((statement, start));
        } else {
            out.push((statement, start));
        }
    }
    out.extend(pending);
    out
}

fn without_comment(raw: &str) -> &str {
    let mut quote = None;
    for (at, c) in raw.char_indices() {
        match (quote, c) {
            (None, '\'' | '"') => quote = Some(c),
            (Some(q), c) if c == q => quote = None,
            (None, '#') => return &raw[..at],
            _ => {}
        }
    }
    raw
}

fn opens_block(statement: &str) -> bool {
    statement.ends_with(" do") || (statement.contains(" do |") && statement.ends_with('|'))
}

fn gem(
    file: &ManifestFile<'_>,
    rest: &str,
    line: u32,
    blocks: &[(Block, u32)],
) -> Result<Dependency, ExtractError> {
    let args = split_args(rest);
    let name = args
        .first()
        .and_then(|a| string_literal(a))
        .ok_or_else(|| syntax(line, "`gem` needs a quoted name"))?;
    let mut requirements = Vec::new();
    let mut groups: Vec<String> = Vec::new();
    let mut skip: Option<(SkipReason, String)> = None;
    for arg in &args[1..] {
        if let Some(requirement) = string_literal(arg) {
            requirements.push(requirement.to_string());
            continue;
        }
        let Some((key, value)) = option(arg) else {
            skip.get_or_insert((
                SkipReason::Unsupported,
                format!("computed argument `{arg}`"),
            ));
            continue;
        };
        let text = string_literal(value).map(str::to_string);
        match (key, text) {
            ("group" | "groups", _) => groups.extend(symbols(value)),
            ("git" | "github" | "gist" | "bitbucket", Some(url)) => {
                skip = Some((SkipReason::Git, url));
            }
            ("path", Some(dir)) => skip = Some((SkipReason::Path, dir)),
            ("source", Some(url)) => {
                skip = Some((SkipReason::Unsupported, format!("from the source {url}")));
            }
            _ => {}
        }
    }
    for (block, _) in blocks {
        match block {
            Block::Group(names) => groups.extend(names.iter().cloned()),
            Block::Git(url) => {
                skip.get_or_insert((SkipReason::Git, url.clone()));
            }
            Block::Path(dir) => {
                skip.get_or_insert((SkipReason::Path, dir.clone()));
            }
            Block::Source(url) => {
                skip.get_or_insert((SkipReason::Unsupported, format!("from the source {url}")));
            }
            Block::Other => {}
        }
    }
    let dev = !groups.is_empty() && groups.iter().all(|g| DEV_GROUPS.contains(&g.as_str()));
    let dep = file
        .dep(Ecosystem::RubyGems, name, line)
        .direct(true)
        .dev(dev);
    let dep = if requirements.is_empty() {
        dep
    } else {
        dep.requires(requirements.join(", "))
    };
    Ok(match skip {
        Some((reason, detail)) => dep.skip(reason, detail),
        None => dep,
    })
}

/// `ruby '3.2.2'` pins Ruby; `ruby file: '.ruby-version'` points at a file read on its own.
fn ruby(file: &ManifestFile<'_>, rest: &str, line: u32) -> Result<Dependency, ExtractError> {
    let args = split_args(rest);
    let pin = file.dep(Ecosystem::Ruby, "ruby", line).direct(true);
    let first = args
        .first()
        .ok_or_else(|| syntax(line, "`ruby` needs a version"))?;
    Ok(match string_literal(first) {
        Some(version) => pin.requires(version),
        None => pin.skip(
            SkipReason::Unsupported,
            format!("Ruby version given as `{first}`"),
        ),
    })
}

/// Splits arguments on commas outside quotes and brackets.
fn split_args(text: &str) -> Vec<&str> {
    let mut args = Vec::new();
    let (mut depth, mut quote, mut start) = (0i32, None, 0);
    for (at, c) in text.char_indices() {
        match (quote, c) {
            (None, '\'' | '"') => quote = Some(c),
            (Some(q), c) if c == q => quote = None,
            (None, '[' | '{' | '(') => depth += 1,
            (None, ']' | '}' | ')') => depth -= 1,
            (None, ',') if depth == 0 => {
                args.push(text[start..at].trim());
                start = at + 1;
            }
            _ => {}
        }
    }
    let last = text[start..].trim();
    if !last.is_empty() {
        args.push(last);
    }
    args
}

/// The contents of `'text'` or `"text"` without interpolation.
fn string_literal(arg: &str) -> Option<&str> {
    let quote = arg.chars().next().filter(|c| *c == '\'' || *c == '"')?;
    let inner = arg.strip_prefix(quote)?.strip_suffix(quote)?;
    (!inner.contains(quote) && !inner.contains("#{")).then_some(inner)
}

/// `:name` → `name`.
fn symbol(arg: &str) -> Option<String> {
    arg.trim()
        .strip_prefix(':')
        .map(|s| s.trim_matches('"').to_string())
}

/// Symbols of `:test` or `[:development, :test]`.
fn symbols(value: &str) -> Vec<String> {
    let inner = value.trim().trim_start_matches('[').trim_end_matches(']');
    split_args(inner).into_iter().filter_map(symbol).collect()
}

/// `key: value` or `:key => value`.
fn option(arg: &str) -> Option<(&str, &str)> {
    if let Some((key, value)) = arg.split_once("=>") {
        let key = key
            .trim()
            .trim_start_matches(':')
            .trim_matches(|c| c == '"' || c == '\'');
        return Some((key, value.trim()));
    }
    let (key, value) = arg.split_once(": ")?;
    key.bytes()
        .all(|b| b.is_ascii_alphanumeric() || b == b'_')
        .then_some((key, value.trim()))
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
    use crate::extract::extract_at;
    use std::path::PathBuf;

    fn run(case: &str) -> Result<Extracted, ExtractError> {
        let root = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
            .join("tests/fixtures/extract/rubygems/gemfile")
            .join(case);
        extract_at(&Gemfile, &root, "Gemfile")
    }

    fn find<'a>(out: &'a Extracted, name: &str) -> &'a Dependency {
        out.dependencies
            .iter()
            .find(|d| d.name == name)
            .unwrap_or_else(|| panic!("no entry for {name}: {:#?}", out.dependencies))
    }

    fn skip(dep: &Dependency) -> Option<(SkipReason, &str)> {
        dep.skipped.as_ref().map(|s| (s.reason, s.detail.as_str()))
    }

    #[test]
    fn wants_gemfile_names_only() {
        assert!(Gemfile.wants("Gemfile", "Gemfile"));
        assert!(Gemfile.wants("app/gems.rb", "gems.rb"));
        assert!(!Gemfile.wants("Gemfile.lock", "Gemfile.lock"));
        assert!(!Gemfile.wants("Gemfile.bak", "Gemfile.bak"));
        assert!(!Gemfile.wants("MyGemfile", "MyGemfile"));
    }

    #[test]
    fn empty_gemfile_declares_nothing() {
        let out = run("empty").expect("parses");
        assert!(out.dependencies.is_empty());
    }

    #[test]
    fn rails_app_groups_sources_and_ruby() {
        let out = run("rails-app").expect("parses");

        let ruby = find(&out, "ruby");
        assert_eq!(ruby.ecosystem, Ecosystem::Ruby);
        assert_eq!(ruby.requirement.as_deref(), Some("3.3.1"));
        assert_eq!(ruby.source.line, 3);

        let rails = find(&out, "rails");
        assert_eq!(rails.requirement.as_deref(), Some("~> 7.1, >= 7.1.3"));
        assert!(rails.direct && !rails.dev);
        assert_eq!(rails.source.line, 5);

        let pg = find(&out, "pg");
        assert_eq!(pg.requirement, None);
        assert!(pg.skipped.is_none());

        assert!(find(&out, "debug").dev, "group :development, :test block");
        assert!(find(&out, "rspec-rails").dev, "`group: :test` option");
        assert!(find(&out, "web-console").dev);
        assert!(!find(&out, "bootsnap").dev, "require: false is not a group");
        assert!(
            !find(&out, "tzinfo-data").dev,
            "a platforms block is not a group"
        );
        assert!(!find(&out, "sidekiq").dev, "production group");

        assert_eq!(
            skip(find(&out, "rack-attack")),
            Some((SkipReason::Git, "https://github.com/rack/rack-attack.git"))
        );
        assert_eq!(
            skip(find(&out, "acme-ui")),
            Some((SkipReason::Git, "acme/acme-ui"))
        );
        assert_eq!(
            skip(find(&out, "billing-engine")),
            Some((SkipReason::Path, "engines/billing"))
        );
        assert_eq!(
            skip(find(&out, "ledger")),
            Some((SkipReason::Path, "engines"))
        );
        let private = find(&out, "acme-auth");
        assert_eq!(
            private.skipped.as_ref().map(|s| s.reason),
            Some(SkipReason::Unsupported)
        );

        let multiline = find(&out, "image_processing");
        assert_eq!(multiline.requirement.as_deref(), Some("~> 1.2"));
        assert_eq!(multiline.source.line, 13);
    }

    #[test]
    fn unclosed_block_is_an_error_with_its_line() {
        let err = run("malformed").expect_err("truncated");
        assert_eq!(err.line(), Some(5));
    }

    #[test]
    fn gem_without_a_name_is_an_error() {
        let repo = crate::repo::Repo::open(std::path::Path::new("."), 1024).expect("cwd");
        let file = ManifestFile {
            path: "Gemfile",
            text: "source 'https://rubygems.org'\ngem\n",
            repo: &repo,
        };
        assert_eq!(Gemfile.extract(&file).expect_err("no name").line(), Some(2));
    }
}
