//! The Go module proxy: `GET {proxy}/{module}/@latest` names the newest version, and
//! `GET {proxy}/{module}/@v/{version}.mod` is its go.mod, which is where a module is marked
//! deprecated (a `// Deprecated:` paragraph in the comment before or on the `module` line) and
//! where earlier versions are retracted (`retract v1.0.0`, `retract [v1.1.0, v1.2.3]`, alone or
//! in a block, with the comment before or after as the reason). Paths and versions are
//! case-escaped as the proxy protocol requires (`!` before a lowered capital).

use super::{
    Fetch, FetchError, Fetched, Flag, MAX_MESSAGE_CHARS, PackageInUse, Registry, clean_text,
    get_or_missing, join, plausible_name, plausible_version,
};
use crate::http::{HttpClient, decode};
use crate::store::NoticeKind;
use chrono::{DateTime, Utc};
use reqwest::Url;
use serde::Deserialize;
use serde_json::json;

#[derive(Debug, Deserialize)]
struct Latest {
    #[serde(rename = "Version")]
    version: String,
}

/// The proxy protocol's case escaping: `github.com/Azure/x` is `github.com/!azure/x`.
pub fn escape(path: &str) -> String {
    let mut out = String::with_capacity(path.len() + 4);
    for c in path.chars() {
        if c.is_ascii_uppercase() {
            out.push('!');
            out.push(c.to_ascii_lowercase());
        } else {
            out.push(c);
        }
    }
    out
}

pub async fn fetch(
    http: &HttpClient,
    base: &Url,
    package: &PackageInUse,
    now: DateTime<Utc>,
) -> Result<Fetch, FetchError> {
    let module = &package.name;
    if !plausible_name(module) || module.starts_with('/') || module.ends_with('/') {
        return Err(FetchError::Protocol(format!(
            "`{module}` is not a Go module path"
        )));
    }
    let escaped = escape(module);
    let url = join(base, &format!("{escaped}/@latest"))?;
    let Some(body) = get_or_missing(http, &url).await? else {
        return Ok(Fetch::NotFound);
    };
    let latest: Latest = decode(&url, &body)?;
    if !plausible_version(&latest.version) || !latest.version.starts_with('v') {
        return Err(FetchError::Protocol(format!(
            "@latest names `{}`, not a module version",
            clean_text(&latest.version, 80)
        )));
    }
    let url = join(
        base,
        &format!("{escaped}/@v/{}.mod", escape(&latest.version)),
    )?;
    let Some(body) = get_or_missing(http, &url).await? else {
        return Ok(Fetch::NotFound);
    };
    let text = String::from_utf8_lossy(&body);
    let go_mod = parse_go_mod(&text);
    Ok(Fetch::Found(Fetched {
        notices: flags(module, &latest.version, &go_mod)
            .into_iter()
            .map(|f| f.into_notice(now))
            .collect(),
        withdrawable: None,
    }))
}

/// What the crawl reads from a go.mod.
#[derive(Debug, Default, PartialEq)]
pub struct GoModFlags {
    pub deprecated: Option<String>,
    pub retractions: Vec<Retraction>,
}

#[derive(Debug, Clone, PartialEq)]
pub struct Retraction {
    /// `low == high` for a single version.
    pub low: String,
    pub high: String,
    pub reason: Option<String>,
}

/// Reads the module deprecation and the retractions; anything else, and anything malformed, is
/// skipped (a broken go.mod must not stop the crawl).
pub fn parse_go_mod(text: &str) -> GoModFlags {
    let mut flags = GoModFlags::default();
    // Comment lines directly above the current line.
    let mut above: Vec<String> = Vec::new();
    let mut in_retract_block = false;
    let mut block_comment: Vec<String> = Vec::new();
    for raw in text.lines().take(10_000) {
        let (code, comment) = match raw.find("//") {
            Some(at) => (raw[..at].trim(), Some(raw[at + 2..].trim().to_string())),
            None => (raw.trim(), None),
        };
        if code.is_empty() {
            match comment {
                Some(c) => above.push(c),
                None => above.clear(),
            }
            continue;
        }
        let mut own = std::mem::take(&mut above);
        own.extend(comment);
        if in_retract_block {
            if code == ")" {
                in_retract_block = false;
                continue;
            }
            let reason = if own.is_empty() { &block_comment } else { &own };
            if let Some(r) = retraction(code, reason) {
                flags.retractions.push(r);
            }
            continue;
        }
        let mut words = code.splitn(2, char::is_whitespace);
        let verb = words.next().unwrap_or("");
        let rest = words.next().unwrap_or("").trim();
        match verb {
            "module" => flags.deprecated = deprecation(&own),
            "retract" if rest == "(" => {
                in_retract_block = true;
                block_comment = own;
            }
            "retract" => {
                if let Some(r) = retraction(rest, &own) {
                    flags.retractions.push(r);
                }
            }
            _ => {}
        }
    }
    flags
}

/// The paragraph that starts with `Deprecated:`, without the marker.
fn deprecation(comment: &[String]) -> Option<String> {
    let mut paragraph: Vec<&str> = Vec::new();
    let mut found = false;
    for line in comment {
        if line.is_empty() {
            if found {
                break;
            }
            paragraph.clear();
            continue;
        }
        if !found && let Some(rest) = line.strip_prefix("Deprecated:") {
            found = true;
            paragraph.clear();
            paragraph.push(rest.trim());
            continue;
        }
        if found {
            paragraph.push(line);
        }
    }
    found.then(|| clean_text(&paragraph.join(" "), MAX_MESSAGE_CHARS))
}

fn retraction(spec: &str, comment: &[String]) -> Option<Retraction> {
    let reason = Some(clean_text(&comment.join(" "), MAX_MESSAGE_CHARS)).filter(|r| !r.is_empty());
    let spec = spec.trim();
    let (low, high) = match spec.strip_prefix('[').and_then(|s| s.strip_suffix(']')) {
        Some(inner) => {
            let (low, high) = inner.split_once(',')?;
            (low.trim(), high.trim())
        }
        None => (spec, spec),
    };
    let valid = |v: &str| plausible_version(v) && v.starts_with('v');
    (valid(low) && valid(high)).then(|| Retraction {
        low: low.to_string(),
        high: high.to_string(),
        reason,
    })
}

fn flags(module: &str, latest: &str, go_mod: &GoModFlags) -> Vec<Flag> {
    let mut out = Vec::new();
    let page = format!("https://pkg.go.dev/{module}");
    if let Some(message) = &go_mod.deprecated {
        let summary = if message.is_empty() {
            format!("{module} is deprecated")
        } else {
            format!("{module} is deprecated: {message}")
        };
        out.push(Flag {
            summary,
            url: page.clone(),
            raw: json!({"registry": "Go", "flag": "deprecated", "message": message, "latest": latest}),
            ..Flag::on_package(Registry::GoProxy, "deprecated", NoticeKind::Deprecation, module)
        });
    }
    for r in &go_mod.retractions {
        let single = r.low == r.high;
        let (id, what, versions, ranges) = if single {
            (
                format!("go-retracted:{module}@{}", r.low),
                format!("{module} {} was retracted", r.low),
                vec![r.low.clone()],
                json!([]),
            )
        } else {
            (
                format!("go-retracted:{module}@[{},{}]", r.low, r.high),
                format!("{module} versions {} to {} were retracted", r.low, r.high),
                Vec::new(),
                json!([{"type": "ECOSYSTEM", "events": [{"introduced": r.low}, {"last_affected": r.high}]}]),
            )
        };
        let summary = match &r.reason {
            Some(reason) => format!("{what}: {reason}"),
            None => what,
        };
        out.push(Flag {
            id,
            summary,
            versions,
            ranges,
            url: page.clone(),
            raw: json!({"registry": "Go", "flag": "retracted", "low": r.low, "high": r.high,
                "reason": r.reason, "latest": latest}),
            ..Flag::on_package(Registry::GoProxy, "retracted", NoticeKind::Yanked, module)
        });
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn capitals_are_escaped() {
        assert_eq!(
            escape("github.com/Azure/azure-sdk-for-go"),
            "github.com/!azure/azure-sdk-for-go"
        );
        assert_eq!(escape("v1.0.0-RC1"), "v1.0.0-!r!c1");
    }

    #[test]
    fn deprecation_and_retractions_with_their_reasons() {
        let go_mod = parse_go_mod(
            "// Package example does things.\n\
             //\n\
             // Deprecated: use example.com/mod/v2 instead.\n\
             // It will get no fixes.\n\
             module example.com/mod\n\
             \n\
             go 1.21\n\
             \n\
             require golang.org/x/text v0.14.0 // indirect\n\
             \n\
             // Published by mistake.\n\
             retract v1.0.0\n\
             retract [v1.1.0, v1.1.3] // data race in the pool\n\
             retract (\n\
             \t// broken build\n\
             \tv1.2.0\n\
             \tv1.2.1 // leaks goroutines\n\
             \tnot-a-version\n\
             )\n",
        );
        assert_eq!(
            go_mod.deprecated.as_deref(),
            Some("use example.com/mod/v2 instead. It will get no fixes.")
        );
        let shown: Vec<(String, String, Option<String>)> = go_mod
            .retractions
            .iter()
            .map(|r| (r.low.clone(), r.high.clone(), r.reason.clone()))
            .collect();
        assert_eq!(
            shown,
            [
                (
                    "v1.0.0".into(),
                    "v1.0.0".into(),
                    Some("Published by mistake.".into())
                ),
                (
                    "v1.1.0".into(),
                    "v1.1.3".into(),
                    Some("data race in the pool".into())
                ),
                (
                    "v1.2.0".into(),
                    "v1.2.0".into(),
                    Some("broken build".into())
                ),
                (
                    "v1.2.1".into(),
                    "v1.2.1".into(),
                    Some("leaks goroutines".into())
                ),
            ]
        );
        let flags = flags("example.com/mod", "v1.3.0", &go_mod);
        assert_eq!(flags[0].id, "go-deprecated:example.com/mod");
        assert_eq!(
            flags[2].summary,
            "example.com/mod versions v1.1.0 to v1.1.3 were retracted: data race in the pool"
        );
    }

    #[test]
    fn a_module_without_flags_and_garbage_give_nothing() {
        assert_eq!(
            parse_go_mod("module example.com/ok\n\ngo 1.22\n"),
            GoModFlags::default()
        );
        assert_eq!(
            parse_go_mod("\u{0}\u{1}retract [\nmodule"),
            GoModFlags::default()
        );
        let same_line = parse_go_mod("module example.com/old // Deprecated: gone\n");
        assert_eq!(same_line.deprecated.as_deref(), Some("gone"));
    }
}
