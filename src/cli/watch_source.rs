//! Where a watched repository's files come from: a local directory, or a git URL kept as a
//! shallow clone in the cache directory and fetched before each rescan.
//!
//! Credentials come from the environment and git's own configuration (credential helpers, SSH
//! agent); ecowatch never asks for them (`GIT_TERMINAL_PROMPT=0`) and strips `user:pass@` from
//! every URL and git message it prints.

use anyhow::{Context, bail};
use regex::Regex;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::LazyLock;

/// Overrides the cache root (`$XDG_CACHE_HOME/ecowatch`, else `~/.cache/ecowatch`).
pub const ENV_CACHE_DIR: &str = "ECOWATCH_CACHE_DIR";

/// A repository to watch, as the user named it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum WatchSource {
    /// A directory on this machine, stored absolute.
    Local(PathBuf),
    /// Anything git can clone: `https://`, `ssh://`, `git://`, `file://`, `user@host:path`.
    Git(String),
}

/// `scheme://` or scp-like `user@host:path` (git's own rule: a colon before any slash).
static SCP_LIKE: LazyLock<Regex> =
    LazyLock::new(|| Regex::new(r"^[A-Za-z0-9._-]+@[A-Za-z0-9._-]+:[^/]").expect("constant regex"));

/// `scheme://userinfo@`: what [`redact`] removes.
static USERINFO: LazyLock<Regex> =
    LazyLock::new(|| Regex::new(r"([A-Za-z][A-Za-z0-9+.-]*://)[^/@\s]+@").expect("constant regex"));

impl WatchSource {
    /// Reads the `watch add` argument: a git URL, or an existing local directory.
    pub fn parse(arg: &str) -> anyhow::Result<WatchSource> {
        if is_git_url(arg) {
            return Ok(WatchSource::Git(arg.to_string()));
        }
        let path = Path::new(arg);
        if !path.is_dir() {
            bail!(
                "`{arg}` is not a directory (nor a git URL: https://, ssh://, git@host:path, file://)"
            );
        }
        let absolute =
            std::path::absolute(path).with_context(|| format!("cannot make `{arg}` absolute"))?;
        Ok(WatchSource::Local(absolute))
    }

    /// What the store keeps in `url`.
    pub fn stored(&self) -> String {
        match self {
            WatchSource::Local(path) => path.to_string_lossy().into_owned(),
            WatchSource::Git(url) => url.clone(),
        }
    }

    /// The inverse of [`WatchSource::stored`], for what the store gives back.
    pub fn from_stored(url: &str) -> WatchSource {
        if is_git_url(url) {
            WatchSource::Git(url.to_string())
        } else {
            WatchSource::Local(PathBuf::from(url))
        }
    }

    /// The name a repository gets without `--name`: its last path component, without `.git`.
    pub fn default_name(&self) -> Option<String> {
        let text = match self {
            WatchSource::Local(path) => path.to_string_lossy().into_owned(),
            WatchSource::Git(url) => url.clone(),
        };
        let trimmed = text.trim_end_matches(['/', '\\']);
        let last = trimmed.rsplit(['/', '\\', ':']).next().unwrap_or_default();
        let name = last.strip_suffix(".git").unwrap_or(last);
        validate_name(name).ok().map(|()| name.to_string())
    }
}

fn is_git_url(arg: &str) -> bool {
    ["https://", "http://", "ssh://", "git://", "file://"]
        .iter()
        .any(|scheme| {
            arg.len() > scheme.len()
                && arg
                    .get(..scheme.len())
                    .is_some_and(|head| head.eq_ignore_ascii_case(scheme))
        })
        || SCP_LIKE.is_match(arg)
}

/// `text` with every `scheme://user:pass@` reduced to `scheme://`: safe to print or log.
pub fn redact(text: &str) -> String {
    USERINFO.replace_all(text, "$1").into_owned()
}

/// Names (and tenants) become directory names in the cache, so they are one plain component.
pub fn validate_name(name: &str) -> anyhow::Result<()> {
    let plain = !name.is_empty()
        && name.len() <= 200
        && name != "."
        && name != ".."
        && name
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'.' | b'_' | b'-'));
    if !plain {
        bail!("`{name}` is not a valid name: use 1 to 200 letters, digits, `.`, `_` or `-`");
    }
    Ok(())
}

/// `$ECOWATCH_CACHE_DIR/repos`, `$XDG_CACHE_HOME/ecowatch/repos` or `~/.cache/ecowatch/repos`.
pub fn cache_root() -> anyhow::Result<PathBuf> {
    let non_empty = |key: &str| std::env::var_os(key).filter(|v| !v.is_empty());
    let base = if let Some(dir) = non_empty(ENV_CACHE_DIR) {
        PathBuf::from(dir)
    } else if let Some(dir) = non_empty("XDG_CACHE_HOME") {
        PathBuf::from(dir).join("ecowatch")
    } else if let Some(home) = non_empty("HOME") {
        PathBuf::from(home).join(".cache").join("ecowatch")
    } else {
        bail!("no cache directory for git checkouts: set {ENV_CACHE_DIR}, XDG_CACHE_HOME or HOME");
    };
    Ok(base.join("repos"))
}

/// Where the checkout of `tenant`'s repository `name` lives.
pub fn checkout_dir(tenant: &str, name: &str) -> anyhow::Result<PathBuf> {
    validate_name(tenant)?;
    validate_name(name)?;
    Ok(cache_root()?.join(tenant).join(name))
}

/// Clones `url` into `dir` (depth 1), or when `dir` already holds a clone, fetches and resets it
/// to the remote's head.
pub fn sync_checkout(url: &str, dir: &Path) -> anyhow::Result<()> {
    if dir.join(".git").is_dir() {
        let dir_text = dir.to_string_lossy();
        git(&[
            "-C", &dir_text, "fetch", "--depth", "1", "--quiet", "origin",
        ])?;
        git(&["-C", &dir_text, "reset", "--hard", "--quiet", "FETCH_HEAD"])?;
        return Ok(());
    }
    if let Some(parent) = dir.parent() {
        std::fs::create_dir_all(parent)
            .with_context(|| format!("cannot create `{}`", parent.display()))?;
    }
    if dir.exists() {
        // A clone that died half-way; git refuses a non-empty target.
        std::fs::remove_dir_all(dir)
            .with_context(|| format!("cannot remove the broken checkout `{}`", dir.display()))?;
    }
    git(&[
        "clone",
        "--depth",
        "1",
        "--quiet",
        "--",
        url,
        &dir.to_string_lossy(),
    ])
}

/// Runs git without a terminal prompt; a failure carries git's message, redacted.
fn git(args: &[&str]) -> anyhow::Result<()> {
    let output = Command::new("git")
        .args(args)
        .env("GIT_TERMINAL_PROMPT", "0")
        .output()
        .context("cannot run git (is it installed?)")?;
    if output.status.success() {
        return Ok(());
    }
    let stderr = String::from_utf8_lossy(&output.stderr);
    let shown: Vec<String> = args.iter().map(|a| redact(a)).collect();
    bail!(
        "`git {}` failed: {}",
        shown.join(" "),
        redact(stderr.trim())
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn git_urls_are_recognised_and_paths_are_not() {
        for url in [
            "https://github.com/acme/app.git",
            "HTTPS://example.com/x",
            "ssh://git@example.com/acme/app",
            "git@github.com:acme/app.git",
            "file:///srv/git/app",
        ] {
            assert!(is_git_url(url), "{url}");
        }
        for path in [
            "./app", "/srv/app", "C:\\code", "app:v2", "https://", "a@b/c:d", "ü-path",
        ] {
            assert!(!is_git_url(path), "{path}");
        }
    }

    #[test]
    fn redact_strips_userinfo_only() {
        assert_eq!(
            redact("fatal: https://bob:s3cret@example.com/a.git not found"),
            "fatal: https://example.com/a.git not found"
        );
        assert_eq!(
            redact("ssh://tok@host/x https://h/y"),
            "ssh://host/x https://h/y"
        );
        assert_eq!(redact("git@github.com:acme/app"), "git@github.com:acme/app");
    }

    #[test]
    fn default_names_are_the_last_component_without_dot_git() {
        let name = |s: WatchSource| s.default_name();
        assert_eq!(
            name(WatchSource::Git("https://u:p@h/acme/app.git/".into())).as_deref(),
            Some("app")
        );
        assert_eq!(
            name(WatchSource::Git("git@github.com:tool.git".into())).as_deref(),
            Some("tool")
        );
        assert_eq!(
            name(WatchSource::Local("/srv/my-lib".into())).as_deref(),
            Some("my-lib")
        );
        assert_eq!(name(WatchSource::Local("/".into())), None);
        assert_eq!(name(WatchSource::Local("/srv/a b".into())), None);
    }

    #[test]
    fn names_are_one_plain_path_component() {
        for bad in ["", ".", "..", "a/b", "a\\b", "ä", &"x".repeat(201)] {
            assert!(validate_name(bad).is_err(), "{bad}");
        }
        validate_name("my_repo-2.0").expect("plain name");
    }
}
