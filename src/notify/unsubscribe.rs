//! One-click unsubscribe tokens (RFC 8058 links): a keyed MAC over the tenant and subscription
//! ids, with the key's version in the clear so keys can be rotated without breaking links in
//! mail already sent. A token carries no address and cannot be forged or moved to another
//! subscription; a tampered token and an unknown one look the same to the caller (`None`).
//!
//! Format: `v{version}.{base64url(tenant_id ‖ subscription_id)}.{base64url(mac[..16])}`, with
//! both ids as 8-byte big-endian integers and the MAC an HMAC-SHA256 over a domain label, the
//! version and the ids.

use crate::store::TenantId;
use base64::Engine as _;
use base64::engine::general_purpose::{STANDARD, URL_SAFE_NO_PAD};
use hmac::{Hmac, Mac};
use sha2::Sha256;

/// The environment variable holding the keys: `VERSION:BASE64KEY[,VERSION:BASE64KEY...]`, the
/// first one signs new tokens, all of them verify.
pub const ENV_UNSUBSCRIBE_KEYS: &str = "ECOWATCH_UNSUBSCRIBE_KEYS";

/// Why a key list was refused.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum KeyError {
    #[error("no unsubscribe key is configured (set {ENV_UNSUBSCRIBE_KEYS}=1:BASE64KEY)")]
    Missing,
    #[error("unsubscribe key entry {0} is not VERSION:BASE64KEY with a version from 1 to 255")]
    Shape(usize),
    #[error(
        "unsubscribe key version {0} has fewer than 32 bytes; generate one with `openssl rand -base64 32`"
    )]
    TooShort(u8),
    #[error("unsubscribe key version {0} is listed twice")]
    Duplicate(u8),
}

/// Bytes of MAC kept in a token: 128 bits is far beyond guessing over HTTP.
const MAC_BYTES: usize = 16;
const DOMAIN: &[u8] = b"ecowatch-unsubscribe-v1\0";

/// The signing key and the older keys still accepted.
#[derive(Clone)]
pub struct UnsubscribeKeys {
    /// (version, key); the first signs.
    keys: Vec<(u8, Vec<u8>)>,
}

impl std::fmt::Debug for UnsubscribeKeys {
    /// Versions only: keys never reach a log.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let versions: Vec<u8> = self.keys.iter().map(|(v, _)| *v).collect();
        f.debug_struct("UnsubscribeKeys")
            .field("versions", &versions)
            .finish()
    }
}

impl UnsubscribeKeys {
    /// Parses `VERSION:BASE64KEY[,VERSION:BASE64KEY...]`; the first entry signs.
    pub fn parse(list: &str) -> Result<UnsubscribeKeys, KeyError> {
        let mut keys: Vec<(u8, Vec<u8>)> = Vec::new();
        for (index, entry) in list.split(',').map(str::trim).enumerate() {
            if entry.is_empty() {
                continue;
            }
            let (version, key) = entry.split_once(':').ok_or(KeyError::Shape(index + 1))?;
            let version: u8 = version
                .trim()
                .parse()
                .ok()
                .filter(|v| *v >= 1)
                .ok_or(KeyError::Shape(index + 1))?;
            let key = STANDARD
                .decode(key.trim())
                .or_else(|_| URL_SAFE_NO_PAD.decode(key.trim()))
                .map_err(|_| KeyError::Shape(index + 1))?;
            if key.len() < 32 {
                return Err(KeyError::TooShort(version));
            }
            if keys.iter().any(|(v, _)| *v == version) {
                return Err(KeyError::Duplicate(version));
            }
            keys.push((version, key));
        }
        if keys.is_empty() {
            return Err(KeyError::Missing);
        }
        Ok(UnsubscribeKeys { keys })
    }

    /// The keys from `ECOWATCH_UNSUBSCRIBE_KEYS`; `Ok(None)` when it is unset.
    pub fn from_env() -> Result<Option<UnsubscribeKeys>, KeyError> {
        match std::env::var(ENV_UNSUBSCRIBE_KEYS) {
            Ok(list) => UnsubscribeKeys::parse(&list).map(Some),
            Err(_) => Ok(None),
        }
    }

    /// The token for one subscription of one tenant, signed with the current key.
    pub fn token(&self, tenant: TenantId, subscription_id: i64) -> String {
        let (version, key) = &self.keys[0];
        let ids = ids_bytes(tenant.get(), subscription_id);
        let mac = mac(key, *version, &ids);
        format!(
            "v{version}.{}.{}",
            URL_SAFE_NO_PAD.encode(ids),
            URL_SAFE_NO_PAD.encode(&mac[..MAC_BYTES])
        )
    }

    /// The (tenant, subscription) a genuine token names; `None` for anything else: malformed,
    /// tampered, signed by an unknown or retired key.
    pub fn verify(&self, token: &str) -> Option<(TenantId, i64)> {
        if token.len() > 128 {
            return None;
        }
        let mut parts = token.split('.');
        let version: u8 = parts.next()?.strip_prefix('v')?.parse().ok()?;
        let ids = URL_SAFE_NO_PAD.decode(parts.next()?).ok()?;
        let tag = URL_SAFE_NO_PAD.decode(parts.next()?).ok()?;
        if parts.next().is_some() || ids.len() != 16 || tag.len() != MAC_BYTES {
            return None;
        }
        let (_, key) = self.keys.iter().find(|(v, _)| *v == version)?;
        let mut check = new_mac(key, version, &ids);
        check.update(&[]);
        check.verify_truncated_left(&tag).ok()?;
        let tenant = i64::from_be_bytes(ids[..8].try_into().ok()?);
        let subscription = i64::from_be_bytes(ids[8..].try_into().ok()?);
        Some((TenantId::from_verified(tenant), subscription))
    }
}

fn ids_bytes(tenant: i64, subscription: i64) -> [u8; 16] {
    let mut out = [0u8; 16];
    out[..8].copy_from_slice(&tenant.to_be_bytes());
    out[8..].copy_from_slice(&subscription.to_be_bytes());
    out
}

fn new_mac(key: &[u8], version: u8, ids: &[u8]) -> Hmac<Sha256> {
    // HMAC takes keys of any length; `new_from_slice` cannot fail for it.
    let mut mac = <Hmac<Sha256> as Mac>::new_from_slice(key)
        .unwrap_or_else(|_| unreachable!("HMAC accepts any key length"));
    mac.update(DOMAIN);
    mac.update(&[version]);
    mac.update(ids);
    mac
}

fn mac(key: &[u8], version: u8, ids: &[u8]) -> Vec<u8> {
    new_mac(key, version, ids).finalize().into_bytes().to_vec()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn keys(list: &str) -> UnsubscribeKeys {
        UnsubscribeKeys::parse(list).unwrap()
    }

    const K1: &str = "1:AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8=";
    const K2: &str = "2:ICEiIyQlJicoKSorLC0uLzAxMjM0NTY3ODk6Ozw9Pj8=";

    #[test]
    fn a_token_names_its_tenant_and_subscription_and_nothing_else() {
        let keys = keys(K1);
        let token = keys.token(TenantId::from_verified(7), 42);
        assert!(token.starts_with("v1."));
        assert!(!token.contains('@'));
        assert_eq!(keys.verify(&token), Some((TenantId::from_verified(7), 42)));
    }

    #[test]
    fn tampered_truncated_and_foreign_tokens_are_refused_alike() {
        let keys = keys(K1);
        let token = keys.token(TenantId::from_verified(7), 42);
        // Another subscription's ids under the same MAC.
        let other = keys.token(TenantId::from_verified(7), 43);
        let mut parts: Vec<&str> = token.split('.').collect();
        let other_ids = other.split('.').nth(1).unwrap();
        parts[1] = other_ids;
        assert_eq!(keys.verify(&parts.join(".")), None);
        // Flipped MAC character, truncated MAC, extra part, other version, garbage.
        let mut flipped = token.clone();
        let last = flipped.pop().unwrap();
        flipped.push(if last == 'A' { 'B' } else { 'A' });
        assert_eq!(keys.verify(&flipped), None);
        assert_eq!(keys.verify(&token[..token.len() - 2]), None);
        assert_eq!(keys.verify(&format!("{token}.x")), None);
        assert_eq!(keys.verify(&token.replacen("v1.", "v2.", 1)), None);
        for junk in ["", "v1", "v1..", "x.y.z", "v999.a.b", &"v1.".repeat(100)] {
            assert_eq!(keys.verify(junk), None, "{junk}");
        }
        // A token signed with a key this installation does not have.
        let foreign = self::keys(K2).token(TenantId::from_verified(7), 42);
        assert_eq!(keys.verify(&foreign), None);
    }

    #[test]
    fn rotation_keeps_old_links_working_and_signs_with_the_first_key() {
        let old = keys(K1).token(TenantId::from_verified(3), 9);
        let rotated = keys(&format!("{K2},{K1}"));
        assert_eq!(rotated.verify(&old), Some((TenantId::from_verified(3), 9)));
        assert!(
            rotated
                .token(TenantId::from_verified(3), 9)
                .starts_with("v2.")
        );
    }

    #[test]
    fn key_lists_are_checked() {
        assert_eq!(UnsubscribeKeys::parse("").err(), Some(KeyError::Missing));
        assert_eq!(
            UnsubscribeKeys::parse("nokey").err(),
            Some(KeyError::Shape(1))
        );
        assert_eq!(
            UnsubscribeKeys::parse("0:AAAA").err(),
            Some(KeyError::Shape(1))
        );
        assert_eq!(
            UnsubscribeKeys::parse("1:AAAA").err(),
            Some(KeyError::TooShort(1))
        );
        assert_eq!(
            UnsubscribeKeys::parse(&format!("{K1},{K1}")).err(),
            Some(KeyError::Duplicate(1))
        );
        assert!(!format!("{:?}", keys(K1)).contains("AAEC"));
    }
}
