//! `kind = "jwt"`: finds compact JWS tokens, decodes the payload (base64url JSON) WITHOUT
//! verifying anything, and reports tokens whose claims all match. Tokens are secrets: the
//! snippet shows only the first characters of each token.

use super::{Hit, char_column, snippet};
use base64::Engine as _;
use regex::Regex;
use std::collections::BTreeMap;
use std::sync::LazyLock;

static TOKEN: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r"eyJ[A-Za-z0-9_-]+\.eyJ[A-Za-z0-9_-]+\.[A-Za-z0-9_-]*")
        .expect("constant regex compiles")
});

/// Longest payload decoded; real JWT payloads are a few hundred bytes.
const MAX_PAYLOAD_CHARS: usize = 16 * 1024;

/// Characters of a token kept in snippets.
const SHOWN_PREFIX: usize = 10;

#[derive(Debug)]
pub struct JwtMatcher {
    /// Claim name and the regex its value must match; all must match.
    pub claims: Vec<(String, Regex)>,
}

impl JwtMatcher {
    /// Every matching token in `line`, appended to `out`.
    pub fn find_in_line(&self, line: &str, line_no: u32, out: &mut Vec<Hit>) {
        let mut found = Vec::new();
        for token in TOKEN.find_iter(line) {
            if let Some(captures) = self.claims_match(token.as_str()) {
                found.push((token.start(), token.as_str().to_string(), captures));
            }
        }
        if found.is_empty() {
            return;
        }
        let masked = mask_tokens(line);
        for (start, token, captures) in found {
            out.push(Hit {
                line: line_no,
                column: char_column(line, start),
                matched: token,
                snippet: snippet(&masked),
                captures,
                package: None,
            });
        }
    }

    /// The claims as `$NAME` captures (upper-cased claim names) when every claim matches.
    fn claims_match(&self, token: &str) -> Option<BTreeMap<String, String>> {
        let payload = decode_payload(token)?;
        let mut captures = BTreeMap::new();
        for (name, pattern) in &self.claims {
            let value = match payload.get(name)? {
                serde_json::Value::String(s) => s.clone(),
                serde_json::Value::Number(n) => n.to_string(),
                serde_json::Value::Bool(b) => b.to_string(),
                _ => return None,
            };
            if !pattern.is_match(&value) {
                return None;
            }
            captures.insert(name.to_ascii_uppercase(), value);
        }
        Some(captures)
    }
}

/// The payload object of a compact JWS, or `None` when it is not base64url JSON.
fn decode_payload(token: &str) -> Option<serde_json::Map<String, serde_json::Value>> {
    let payload = token.split('.').nth(1)?;
    if payload.len() > MAX_PAYLOAD_CHARS {
        return None;
    }
    let bytes = base64::engine::general_purpose::URL_SAFE_NO_PAD
        .decode(payload.trim_end_matches('='))
        .ok()?;
    match serde_json::from_slice(&bytes).ok()? {
        serde_json::Value::Object(map) => Some(map),
        _ => None,
    }
}

/// The line with every token cut to its first characters and `…`.
pub fn mask_tokens(line: &str) -> String {
    TOKEN
        .replace_all(line, |caps: &regex::Captures<'_>| {
            let token = caps.get(0).map_or("", |m| m.as_str());
            format!("{}…", &token[..SHOWN_PREFIX.min(token.len())])
        })
        .into_owned()
}

#[cfg(test)]
mod tests {
    use super::*;

    // Fakes signed with a dummy secret; only their claims matter.
    const ANON: &str = "eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9.eyJpc3MiOiJzdXBhYmFzZSIsInJlZiI6ImVjb3dhdGNoZml4dHVyZTAwMDAiLCJyb2xlIjoiYW5vbiIsImlhdCI6MTcwMDAwMDAwMCwiZXhwIjoyMDAwMDAwMDAwfQ.HqTm-9HLwipBVzLj4Pzk3D96Wh_ZwNbunZR34scfHig";
    const OTHER: &str = "eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9.eyJpc3MiOiJleGFtcGxlLnRlc3QiLCJzdWIiOiJmaXh0dXJlIiwicm9sZSI6ImFub24ifQ.vB3V9VnrMs0P8JfbQ8P8t1BAH_1vor-xl4zk8qWp5YM";

    fn supabase() -> JwtMatcher {
        JwtMatcher {
            claims: vec![
                ("iss".into(), Regex::new("^supabase$").unwrap()),
                ("role".into(), Regex::new("^(anon|service_role)$").unwrap()),
            ],
        }
    }

    #[test]
    fn matches_claims_and_masks_the_token() {
        let mut hits = Vec::new();
        supabase().find_in_line(&format!("KEY={ANON}"), 3, &mut hits);
        assert_eq!(hits.len(), 1);
        assert_eq!((hits[0].line, hits[0].column), (3, 5));
        assert_eq!(hits[0].captures["ROLE"], "anon");
        assert_eq!(hits[0].snippet, "KEY=eyJhbGciOi…");
        assert!(!hits[0].snippet.contains(&ANON[11..]));
    }

    #[test]
    fn other_issuers_and_garbage_do_not_match() {
        let mut hits = Vec::new();
        let m = supabase();
        m.find_in_line(&format!("T={OTHER}"), 1, &mut hits);
        m.find_in_line("T=eyJhbGci.eyJ!!!notbase64.x", 1, &mut hits);
        m.find_in_line("T=eyJhbGci.eyJhYmM.x", 1, &mut hits);
        assert!(hits.is_empty());
    }
}
