//! A GitHub repository named by registry metadata, in any of the spellings package authors use
//! (`github:o/r`, `o/r`, `git+https://github.com/o/r.git`, `git://github.com/o/r`,
//! `git@github.com:o/r.git`, `https://github.com/o/r/tree/main/sub`), as a lower-case
//! `owner/repo`. The metadata is hostile: long strings, other hosts, `..` and odd characters
//! give no repository.

/// Longer strings are not repository URLs anyone writes.
const MAX_URL_LEN: usize = 500;
/// GitHub's own limits on user/organisation and repository names.
const MAX_OWNER_LEN: usize = 39;
const MAX_REPO_LEN: usize = 100;
/// First path segments of github.com pages that are not repositories.
const NOT_OWNERS: &[&str] = &[
    "about",
    "apps",
    "collections",
    "features",
    "login",
    "marketplace",
    "orgs",
    "settings",
    "sponsors",
    "topics",
];

/// The lower-case `owner/repo` on github.com that `text` names, if any. `shorthand` accepts npm's
/// bare `owner/repo` form (only npm's `repository` field means that).
pub fn github_slug(text: &str, shorthand: bool) -> Option<String> {
    let text = text.trim();
    if text.is_empty() || text.len() > MAX_URL_LEN || text.chars().any(char::is_control) {
        return None;
    }
    let text = text.strip_prefix("git+").unwrap_or(text);
    let path = if let Some(rest) = text.strip_prefix("github:") {
        rest
    } else if let Some(rest) = strip_prefix_ignore_case(text, "git@github.com:") {
        rest
    } else if text.contains("://") {
        let url = reqwest::Url::parse(text).ok()?;
        if !matches!(url.scheme(), "https" | "http" | "git" | "ssh" | "git+ssh") {
            return None;
        }
        let host = url.host_str()?.to_ascii_lowercase();
        if host != "github.com" && host != "www.github.com" {
            return None;
        }
        return slug_from_path(url.path());
    } else if let Some(rest) = strip_prefix_ignore_case(text, "github.com/")
        .or_else(|| strip_prefix_ignore_case(text, "www.github.com/"))
    {
        rest
    } else if shorthand && !text.contains(':') {
        text
    } else {
        return None;
    };
    slug_from_path(path.split(['#', '?']).next().unwrap_or_default())
}

fn strip_prefix_ignore_case<'a>(text: &'a str, prefix: &str) -> Option<&'a str> {
    let head = text.get(..prefix.len())?;
    head.eq_ignore_ascii_case(prefix)
        .then(|| &text[prefix.len()..])
}

/// `/owner/repo(.git)(/anything)` → `owner/repo`.
fn slug_from_path(path: &str) -> Option<String> {
    let mut segments = path.trim_start_matches('/').split('/');
    let owner = segments.next()?;
    let repo = segments.next()?;
    let repo = repo.strip_suffix(".git").unwrap_or(repo);
    let ok = |part: &str, max: usize| {
        !part.is_empty()
            && part.len() <= max
            && part != "."
            && part != ".."
            && part
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.'))
    };
    if !ok(owner, MAX_OWNER_LEN) || !ok(repo, MAX_REPO_LEN) {
        return None;
    }
    let owner = owner.to_ascii_lowercase();
    if NOT_OWNERS.contains(&owner.as_str()) {
        return None;
    }
    Some(format!("{owner}/{}", repo.to_ascii_lowercase()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_common_spelling_becomes_owner_slash_repo() {
        for text in [
            "github:Supabase/Supabase-JS",
            "supabase/supabase-js",
            "supabase/supabase-js#main",
            "git+https://github.com/supabase/supabase-js.git",
            "https://github.com/supabase/supabase-js",
            "https://www.github.com/supabase/supabase-js/",
            "http://github.com/supabase/supabase-js/tree/main/packages/core",
            "git://github.com/supabase/supabase-js.git",
            "git+ssh://git@github.com/supabase/supabase-js.git",
            "ssh://git@github.com/supabase/supabase-js",
            "git@github.com:supabase/supabase-js.git",
            "github.com/supabase/supabase-js",
            "  https://GitHub.com/supabase/supabase-js?tab=readme  ",
            "https://github.com/supabase/supabase-js#readme",
        ] {
            assert_eq!(
                github_slug(text, true).as_deref(),
                Some("supabase/supabase-js"),
                "{text}"
            );
        }
    }

    #[test]
    fn other_hosts_garbage_and_hostile_strings_give_nothing() {
        for text in [
            "",
            "https://gitlab.com/o/r",
            "gitlab:o/r",
            "bitbucket:o/r",
            "https://github.com.evil.test/o/r",
            "https://evil.test/github.com/o/r",
            "https://github.com/o",
            "https://github.com/sponsors/someone",
            "https://github.com/../../x",
            "../../x",
            "github:../..",
            "https://github.com/o/r%2e%2e",
            "https://github.com/o%0a/r",
            "file:///github.com/o/r",
            "javascript:alert(1)//github.com/o/r",
            "not a url at all",
            "https://github.com/o/r\r\nX-Evil: 1",
        ] {
            assert_eq!(github_slug(text, true), None, "{text:?}");
        }
        let long = format!("https://github.com/o/{}", "r".repeat(5000));
        assert_eq!(github_slug(&long, true), None);
        let long_name = format!("https://github.com/o/{}", "r".repeat(101));
        assert_eq!(github_slug(&long_name, true), None);
        // Only npm's field means a bare `owner/repo`.
        assert_eq!(github_slug("o/r", false), None);
        assert_eq!(
            github_slug("https://github.com/o/r", false).as_deref(),
            Some("o/r")
        );
    }
}
