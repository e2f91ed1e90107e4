//! Bearer tokens: how they are made (32 bytes from the operating system's CSPRNG), how they are
//! stored (SHA-256 only), and the extractors that turn an `Authorization` header into the tenant
//! a request speaks for.

use super::ApiState;
use super::error::ApiError;
use crate::store::ApiPrincipal;
use axum::extract::FromRequestParts;
use axum::http::header;
use axum::http::request::Parts;
use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use ring::rand::{SecureRandom, SystemRandom};
use sha2::{Digest, Sha256};

/// Every token starts with this, so secret scanners and people can recognise one.
pub const TOKEN_PREFIX: &str = "ecw_";

/// Random bytes per token: 256 bits, far beyond guessing.
const TOKEN_BYTES: usize = 32;

/// A token's length: the prefix and 43 base64url characters.
const TOKEN_LEN: usize = TOKEN_PREFIX.len() + (TOKEN_BYTES * 4).div_ceil(3);

/// The operating system would not hand out random bytes.
#[derive(Debug, thiserror::Error)]
#[error("the system random number generator failed")]
pub struct RandomError;

/// A new token: `ecw_` and 32 random bytes from the OS CSPRNG (ring's `SystemRandom`), base64url.
pub fn generate_token() -> Result<String, RandomError> {
    let mut bytes = [0u8; TOKEN_BYTES];
    SystemRandom::new()
        .fill(&mut bytes)
        .map_err(|_| RandomError)?;
    Ok(format!("{TOKEN_PREFIX}{}", URL_SAFE_NO_PAD.encode(bytes)))
}

/// What the store keeps of a token: its SHA-256, as 64 lowercase hex digits. A fast hash is
/// right here: the token has 256 random bits, so there is nothing to brute-force.
pub fn token_hash(token: &str) -> String {
    Sha256::digest(token.as_bytes())
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

/// Whether `text` has the shape of a token (so junk never reaches the database).
fn looks_like_token(text: &str) -> bool {
    text.len() == TOKEN_LEN
        && text.starts_with(TOKEN_PREFIX)
        && text[TOKEN_PREFIX.len()..]
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
}

/// The token of `Authorization: Bearer TOKEN` (scheme case-insensitive), if any.
fn bearer(parts: &Parts) -> Option<&str> {
    let value = parts.headers.get(header::AUTHORIZATION)?.to_str().ok()?;
    let (scheme, token) = value.trim().split_once(' ')?;
    scheme.eq_ignore_ascii_case("bearer").then(|| token.trim())
}

/// A request with a valid, unrevoked token: the tenant it speaks for.
#[derive(Debug, Clone, Copy)]
pub struct Authenticated(pub ApiPrincipal);

impl FromRequestParts<ApiState> for Authenticated {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &ApiState) -> Result<Self, ApiError> {
        let Some(token) = bearer(parts) else {
            return Err(ApiError::Unauthorized { presented: false });
        };
        if !looks_like_token(token) {
            return Err(ApiError::Unauthorized { presented: true });
        }
        match state.store.authenticate(&token_hash(token)).await {
            Ok(Some(principal)) => Ok(Authenticated(principal)),
            Ok(None) => Err(ApiError::Unauthorized { presented: true }),
            Err(err) => Err(ApiError::internal("authentication", &err)),
        }
    }
}

/// A request with a valid admin token; a valid token without the right gets 403.
#[derive(Debug, Clone, Copy)]
pub struct Admin(pub ApiPrincipal);

impl FromRequestParts<ApiState> for Admin {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &ApiState) -> Result<Self, ApiError> {
        let Authenticated(principal) = Authenticated::from_request_parts(parts, state).await?;
        if !principal.admin {
            return Err(ApiError::Forbidden);
        }
        Ok(Admin(principal))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tokens_are_prefixed_random_and_hashed_to_hex() {
        let a = generate_token().unwrap();
        let b = generate_token().unwrap();
        assert_ne!(a, b);
        assert!(looks_like_token(&a), "{a}");
        assert_eq!(a.len(), TOKEN_LEN);
        let hash = token_hash(&a);
        assert_eq!(hash.len(), 64);
        assert!(
            hash.bytes()
                .all(|c| c.is_ascii_hexdigit() && !c.is_ascii_uppercase())
        );
        assert_ne!(hash, token_hash(&b));
        // SHA-256("abc"), from FIPS 180-2.
        assert_eq!(
            token_hash("abc"),
            "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"
        );
    }

    #[test]
    fn only_token_shaped_bearers_are_looked_up() {
        let token = generate_token().unwrap();
        assert!(!looks_like_token(&token[..TOKEN_LEN - 1]));
        assert!(!looks_like_token(&format!("{token}A")));
        assert!(!looks_like_token(&token.replacen("ecw_", "xyz_", 1)));
        assert!(!looks_like_token(&format!("ecw_{}", "é".repeat(21))));
    }

    #[test]
    fn the_bearer_scheme_is_case_insensitive_and_required() {
        let parts = |value: &str| {
            let (parts, ()) = axum::http::Request::builder()
                .header(header::AUTHORIZATION, value)
                .body(())
                .unwrap()
                .into_parts();
            parts
        };
        assert_eq!(bearer(&parts("Bearer abc")), Some("abc"));
        assert_eq!(bearer(&parts("bearer  abc ")), Some("abc"));
        assert_eq!(bearer(&parts("Basic abc")), None);
        assert_eq!(bearer(&parts("Bearer")), None);
    }
}
