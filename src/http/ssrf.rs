//! The SSRF guard for URLs that users type (webhooks): a webhook is a request ecowatch makes on
//! a user's behalf from inside its own network, so the URL must not reach loopback, private
//! networks or cloud metadata.
//!
//! [`vet`] parses the URL with a real URL parser (so `2130706433`, `0x7f.1` and
//! `[::ffff:127.0.0.1]` are the addresses they are, not strings), resolves the host once, and
//! refuses the URL if ANY address is in a blocked range (fail closed). [`post`] then connects to
//! exactly the addresses that were checked (pinned with `ClientBuilder::resolve_to_addrs`, so a
//! DNS answer that changes between check and connect cannot matter), never through a proxy, and
//! never follows a redirect. Save time and send time use the same guard.

use reqwest::Url;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr};
use std::time::{Duration, SystemTime};

/// `1` allows loopback, private, link-local, unique-local and CGNAT addresses (tests, and
/// receivers deliberately on the local network). Cloud metadata addresses stay blocked.
pub const ENV_ALLOW_PRIVATE: &str = "ECOWATCH_ALLOW_PRIVATE_URLS";
/// `1` allows plain `http://` URLs (which anyone on the path can read and change).
pub const ENV_ALLOW_HTTP: &str = "ECOWATCH_ALLOW_HTTP_URLS";

/// Host names that are never resolved: they name the machine itself or a cloud metadata service.
const METADATA_HOSTS: &[&str] = &[
    "metadata.google.internal",
    "metadata.goog",
    "metadata.packet.net",
    "metadata.azure.com",
];

/// Cloud metadata addresses: blocked even when private addresses are allowed, because a
/// receiver on the metadata service is never legitimate and its credentials are the prize.
const METADATA_ADDRESSES: &[IpAddr] = &[
    IpAddr::V4(Ipv4Addr::new(169, 254, 169, 254)),
    IpAddr::V4(Ipv4Addr::new(169, 254, 170, 2)),
    IpAddr::V4(Ipv4Addr::new(100, 100, 100, 200)),
    IpAddr::V6(Ipv6Addr::new(0xfd00, 0x0ec2, 0, 0, 0, 0, 0, 0x0254)),
];

/// What the guard lets through besides public https URLs.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct SsrfPolicy {
    pub allow_http: bool,
    pub allow_private: bool,
}

impl SsrfPolicy {
    /// The strict default, loosened only by `ECOWATCH_ALLOW_HTTP_URLS=1` and
    /// `ECOWATCH_ALLOW_PRIVATE_URLS=1`.
    pub fn from_env() -> SsrfPolicy {
        let on = |name: &str| std::env::var(name).is_ok_and(|v| v.trim() == "1");
        SsrfPolicy {
            allow_http: on(ENV_ALLOW_HTTP),
            allow_private: on(ENV_ALLOW_PRIVATE),
        }
    }
}

/// Why a URL was refused. Messages name the host, never the path or query (webhook paths hold
/// secrets).
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum SsrfError {
    #[error("not a valid URL")]
    Parse,
    #[error("the URL must be https (set {ENV_ALLOW_HTTP}=1 to allow plain http)")]
    Http,
    #[error("only https URLs are accepted, not `{0}:`")]
    Scheme(String),
    #[error("the URL has no host")]
    NoHost,
    #[error("URLs with a user name or password are not accepted")]
    Userinfo,
    #[error("`{host}` is a cloud metadata or local-only name")]
    BlockedName { host: String },
    #[error(
        "`{host}` is {reason} ({address}); set {ENV_ALLOW_PRIVATE}=1 to allow private and loopback addresses"
    )]
    Private {
        host: String,
        address: IpAddr,
        reason: &'static str,
    },
    #[error("`{host}` is {reason} ({address}), which is never allowed")]
    Forbidden {
        host: String,
        address: IpAddr,
        reason: &'static str,
    },
    #[error("cannot resolve `{host}`: {message}")]
    Resolve { host: String, message: String },
    #[error("`{host}` resolves to no address")]
    NoAddress { host: String },
}

impl SsrfError {
    /// A name that does not resolve right now may resolve later; every other refusal stands.
    pub fn is_transient(&self) -> bool {
        matches!(self, SsrfError::Resolve { .. })
    }
}

/// A URL that passed the guard, with the addresses it was checked against.
#[derive(Clone)]
pub struct VettedUrl {
    url: Url,
    host: String,
    /// Empty when the host is an IP literal (there is nothing to resolve or pin).
    pinned: Vec<SocketAddr>,
}

/// Only scheme and host: the path of a Slack or Discord webhook URL is its secret.
impl std::fmt::Debug for VettedUrl {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("VettedUrl")
            .field("url", &redact(self.url.as_str()))
            .field("pinned", &self.pinned)
            .finish()
    }
}

impl VettedUrl {
    pub fn host(&self) -> &str {
        &self.host
    }

    pub fn addresses(&self) -> &[SocketAddr] {
        &self.pinned
    }

    /// `scheme://host/…`: safe to print.
    pub fn redacted(&self) -> String {
        redact(self.url.as_str())
    }
}

/// `scheme://host[:port]/…` for a URL (the path, query and any credentials left out), or `…`
/// for text that is not a URL.
pub fn redact(url: &str) -> String {
    match Url::parse(url) {
        Ok(u) => match (u.host_str(), u.port()) {
            (Some(host), Some(port)) => format!("{}://{host}:{port}/…", u.scheme()),
            (Some(host), None) => format!("{}://{host}/…", u.scheme()),
            _ => "…".into(),
        },
        Err(_) => "…".into(),
    }
}

/// Checks `url` against `policy`: scheme, credentials, host name, and every address the host
/// resolves to (once).
pub async fn vet(url: &str, policy: &SsrfPolicy) -> Result<VettedUrl, SsrfError> {
    let parsed = parse(url, policy)?;
    let host = parsed.host_str().ok_or(SsrfError::NoHost)?.to_string();
    let port = parsed.port_or_known_default().unwrap_or(443);
    if let Some(ip) = ip_literal(&host) {
        check_address(&host, ip, policy)?;
        return Ok(VettedUrl {
            url: parsed,
            host,
            pinned: Vec::new(),
        });
    }
    let addresses: Vec<SocketAddr> = tokio::net::lookup_host((host.as_str(), port))
        .await
        .map_err(|e| SsrfError::Resolve {
            host: host.clone(),
            message: e.to_string(),
        })?
        .collect();
    if addresses.is_empty() {
        return Err(SsrfError::NoAddress { host });
    }
    for address in &addresses {
        check_address(&host, address.ip(), policy)?;
    }
    Ok(VettedUrl {
        url: parsed,
        host,
        pinned: addresses,
    })
}

/// Everything [`vet`] checks before resolving: scheme, credentials, names, IP literals.
fn parse(url: &str, policy: &SsrfPolicy) -> Result<Url, SsrfError> {
    let parsed = Url::parse(url.trim()).map_err(|_| SsrfError::Parse)?;
    match parsed.scheme() {
        "https" => {}
        "http" if policy.allow_http => {}
        "http" => return Err(SsrfError::Http),
        other => return Err(SsrfError::Scheme(other.chars().take(20).collect())),
    }
    if !parsed.username().is_empty() || parsed.password().is_some() {
        return Err(SsrfError::Userinfo);
    }
    let host = parsed.host_str().ok_or(SsrfError::NoHost)?;
    if host.is_empty() {
        return Err(SsrfError::NoHost);
    }
    if ip_literal(host).is_none() {
        let name = host.trim_end_matches('.').to_ascii_lowercase();
        let local_name = name == "localhost" || name.ends_with(".localhost");
        if METADATA_HOSTS.contains(&name.as_str()) || (local_name && !policy.allow_private) {
            return Err(SsrfError::BlockedName {
                host: host.to_string(),
            });
        }
    }
    Ok(parsed)
}

/// The address of a host that is an IP literal (`url` has already normalised `0x7f.1` to
/// `127.0.0.1` and put IPv6 in brackets).
fn ip_literal(host: &str) -> Option<IpAddr> {
    if let Some(v6) = host.strip_prefix('[').and_then(|h| h.strip_suffix(']')) {
        return v6.parse::<Ipv6Addr>().ok().map(IpAddr::V6);
    }
    host.parse::<Ipv4Addr>().ok().map(IpAddr::V4)
}

fn check_address(host: &str, address: IpAddr, policy: &SsrfPolicy) -> Result<(), SsrfError> {
    let embedded = match address {
        IpAddr::V6(v6) => embedded_v4(v6).map(IpAddr::V4),
        IpAddr::V4(_) => None,
    };
    if METADATA_ADDRESSES.contains(&address)
        || embedded.is_some_and(|v4| METADATA_ADDRESSES.contains(&v4))
    {
        return Err(SsrfError::Forbidden {
            host: host.to_string(),
            address,
            reason: "a cloud metadata address",
        });
    }
    match classify(address) {
        None => Ok(()),
        Some(Class::Private(_)) if policy.allow_private => Ok(()),
        Some(Class::Private(reason)) => Err(SsrfError::Private {
            host: host.to_string(),
            address,
            reason,
        }),
        Some(Class::Never(reason)) => Err(SsrfError::Forbidden {
            host: host.to_string(),
            address,
            reason,
        }),
    }
}

/// Why an address is not a public unicast one.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Class {
    /// Inside this machine or its networks: allowed only with [`SsrfPolicy::allow_private`].
    Private(&'static str),
    /// Never a webhook receiver (multicast, broadcast, documentation, reserved, ...).
    Never(&'static str),
}

fn classify(address: IpAddr) -> Option<Class> {
    match address {
        IpAddr::V4(v4) => classify_v4(v4),
        IpAddr::V6(v6) => classify_v6(v6),
    }
}

fn classify_v4(ip: Ipv4Addr) -> Option<Class> {
    let [a, b, c, _] = ip.octets();
    let class = match (a, b, c) {
        (0, _, _) => Class::Never("an unspecified (\"this network\") address"),
        (127, _, _) => Class::Private("a loopback address"),
        (10, _, _) => Class::Private("a private address"),
        (172, 16..=31, _) => Class::Private("a private address"),
        (192, 168, _) => Class::Private("a private address"),
        (100, 64..=127, _) => Class::Private("a shared (CGNAT) address"),
        (169, 254, _) => Class::Private("a link-local address"),
        (192, 0, 0) => Class::Never("an IETF protocol address"),
        (192, 0, 2) | (198, 51, 100) | (203, 0, 113) => Class::Never("a documentation address"),
        (198, 18..=19, _) => Class::Never("a benchmarking address"),
        (224..=239, _, _) => Class::Never("a multicast address"),
        _ if ip == Ipv4Addr::BROADCAST => Class::Never("the broadcast address"),
        (240..=255, _, _) => Class::Never("a reserved address"),
        _ => return None,
    };
    Some(class)
}

/// The IPv4 address an IPv6 one carries: IPv4-mapped (`::ffff:a.b.c.d`), IPv4-compatible
/// (`::a.b.c.d`), NAT64 (`64:ff9b::/96`) and 6to4 (`2002::/16`).
fn embedded_v4(ip: Ipv6Addr) -> Option<Ipv4Addr> {
    let s = ip.segments();
    let v4 = |hi: u16, lo: u16| {
        let [a, b] = hi.to_be_bytes();
        let [c, d] = lo.to_be_bytes();
        Ipv4Addr::new(a, b, c, d)
    };
    if ip.is_unspecified() || ip.is_loopback() {
        None
    } else if (s[..5] == [0, 0, 0, 0, 0] && (s[5] == 0xffff || s[5] == 0))
        || s[..6] == [0x64, 0xff9b, 0, 0, 0, 0]
    {
        Some(v4(s[6], s[7]))
    } else if s[0] == 0x2002 {
        Some(v4(s[1], s[2]))
    } else {
        None
    }
}

fn classify_v6(ip: Ipv6Addr) -> Option<Class> {
    if ip.is_unspecified() {
        return Some(Class::Never("the unspecified address"));
    }
    if ip.is_loopback() {
        return Some(Class::Private("a loopback address"));
    }
    // An IPv4 address inside an IPv6 one: the IPv4 rules decide.
    if let Some(v4) = embedded_v4(ip) {
        return classify_v4(v4);
    }
    let s = ip.segments();
    if s[0] == 0x64 && s[1] == 0xff9b && s[2] == 1 {
        return Some(Class::Private("a local-use NAT64 address"));
    }
    let class = match s[0] {
        0xfc00..=0xfdff => Class::Private("a unique-local address"),
        0xfe80..=0xfebf => Class::Private("a link-local address"),
        0xfec0..=0xfeff => Class::Private("a site-local address"),
        0xff00..=0xffff => Class::Never("a multicast address"),
        0x2001 if s[1] == 0x0db8 => Class::Never("a documentation address"),
        0x2001 if s[1] == 0 => Class::Never("a Teredo tunnel address"),
        0x3fff if s[1] <= 0x0fff => Class::Never("a documentation address"),
        0x0100 if s[1..4] == [0, 0, 0] => Class::Never("a discard-only address"),
        0x0000 => Class::Never("a reserved address"),
        _ => return None,
    };
    Some(class)
}

/// Bounds on one POST.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PostLimits {
    pub connect_timeout: Duration,
    /// The whole exchange, body included.
    pub timeout: Duration,
    /// How much of the answer is kept (receivers' error strings are short).
    pub max_response_bytes: usize,
}

impl Default for PostLimits {
    fn default() -> Self {
        PostLimits {
            connect_timeout: Duration::from_secs(10),
            timeout: Duration::from_secs(20),
            max_response_bytes: 16 * 1024,
        }
    }
}

/// What the receiver answered.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PostResponse {
    pub status: u16,
    /// `Retry-After`, when sent.
    pub retry_after: Option<Duration>,
    /// The first [`PostLimits::max_response_bytes`] of the body, as text.
    pub body: String,
}

/// Why no answer came. The messages never contain the URL.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum PostError {
    #[error("cannot build the HTTP client: {0}")]
    Build(String),
    #[error("no answer within {0:?}")]
    Timeout(Duration),
    #[error("the connection failed: {0}")]
    Connect(String),
}

/// POSTs `body` to the vetted URL: connects only to the checked addresses, no proxy, no
/// redirects (a 3xx comes back as the answer), bounded in time and in what is read.
pub async fn post(
    vetted: &VettedUrl,
    headers: &[(&str, String)],
    body: Vec<u8>,
    limits: &PostLimits,
) -> Result<PostResponse, PostError> {
    let client = pinned_client(vetted, limits)?;
    let mut request = client.post(vetted.url.clone()).body(body);
    for (name, value) in headers {
        request = request.header(*name, value.as_str());
    }
    let failed = |e: reqwest::Error| {
        if e.is_timeout() {
            PostError::Timeout(limits.timeout)
        } else {
            PostError::Connect(describe(&e.without_url()))
        }
    };
    let mut response = request.send().await.map_err(failed)?;
    let status = response.status().as_u16();
    let retry_after = response
        .headers()
        .get(reqwest::header::RETRY_AFTER)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| super::parse_retry_after(v, SystemTime::now()));
    let mut bytes = Vec::new();
    // A failure while reading the body after the status arrived changes nothing: the status
    // is the answer.
    while let Ok(Some(chunk)) = response.chunk().await {
        let room = limits.max_response_bytes.saturating_sub(bytes.len());
        bytes.extend_from_slice(&chunk[..chunk.len().min(room)]);
        if bytes.len() >= limits.max_response_bytes {
            break;
        }
    }
    Ok(PostResponse {
        status,
        retry_after,
        body: String::from_utf8_lossy(&bytes).into_owned(),
    })
}

/// What a guarded GET answered (a page a feed names).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PageResponse {
    pub status: u16,
    pub etag: Option<String>,
    pub last_modified: Option<String>,
    /// At most `max_bytes` of the body; `truncated` says whether more was sent.
    pub body: Vec<u8>,
    pub truncated: bool,
}

/// GETs the vetted URL like [`post`] sends: only to the checked addresses, no proxy, no
/// redirects (a 3xx is the answer), bounded in time and size. `headers` carry conditional
/// validators (`If-None-Match`, `If-Modified-Since`).
pub async fn get(
    vetted: &VettedUrl,
    headers: &[(&str, String)],
    limits: &PostLimits,
) -> Result<PageResponse, PostError> {
    let client = pinned_client(vetted, limits)?;
    let mut request = client.get(vetted.url.clone());
    for (name, value) in headers {
        request = request.header(*name, value.as_str());
    }
    let failed = |e: reqwest::Error| {
        if e.is_timeout() {
            PostError::Timeout(limits.timeout)
        } else {
            PostError::Connect(describe(&e.without_url()))
        }
    };
    let mut response = request.send().await.map_err(failed)?;
    let header = |name: reqwest::header::HeaderName| {
        response
            .headers()
            .get(name)
            .and_then(|v| v.to_str().ok())
            .filter(|v| v.len() <= 512)
            .map(str::to_string)
    };
    let etag = header(reqwest::header::ETAG);
    let last_modified = header(reqwest::header::LAST_MODIFIED);
    let status = response.status().as_u16();
    let mut body = Vec::new();
    let mut truncated = false;
    while let Some(chunk) = response.chunk().await.map_err(failed)? {
        let room = limits.max_response_bytes.saturating_sub(body.len());
        if chunk.len() > room {
            body.extend_from_slice(&chunk[..room]);
            truncated = true;
            break;
        }
        body.extend_from_slice(&chunk);
    }
    Ok(PageResponse {
        status,
        etag,
        last_modified,
        body,
        truncated,
    })
}

/// A client that connects only to the vetted addresses, through no proxy, following no
/// redirects, within the limits' timeouts.
fn pinned_client(vetted: &VettedUrl, limits: &PostLimits) -> Result<reqwest::Client, PostError> {
    let _already_installed = rustls::crypto::ring::default_provider().install_default();
    let mut builder = reqwest::Client::builder()
        .user_agent(super::user_agent())
        .connect_timeout(limits.connect_timeout)
        .timeout(limits.timeout)
        .redirect(reqwest::redirect::Policy::none())
        .no_proxy();
    if !vetted.pinned.is_empty() {
        builder = builder.resolve_to_addrs(&vetted.host, &vetted.pinned);
    }
    builder
        .build()
        .map_err(|e| PostError::Build(e.without_url().to_string()))
}

/// The error and its causes on one line.
fn describe(err: &reqwest::Error) -> String {
    let mut text = err.to_string();
    let mut source = std::error::Error::source(err);
    while let Some(cause) = source {
        text.push_str(": ");
        text.push_str(&cause.to_string());
        source = cause.source();
    }
    text
}

#[cfg(test)]
mod tests {
    use super::*;

    const STRICT: SsrfPolicy = SsrfPolicy {
        allow_http: false,
        allow_private: false,
    };
    const HTTP: SsrfPolicy = SsrfPolicy {
        allow_http: true,
        allow_private: false,
    };
    const LOOSE: SsrfPolicy = SsrfPolicy {
        allow_http: true,
        allow_private: true,
    };

    fn vet_now(url: &str, policy: SsrfPolicy) -> Result<VettedUrl, SsrfError> {
        tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .unwrap()
            .block_on(vet(url, &policy))
    }

    fn ip(text: &str) -> IpAddr {
        text.parse().unwrap()
    }

    #[test]
    fn public_addresses_pass() {
        for address in [
            "1.1.1.1",
            "8.8.8.8",
            "172.32.0.1",
            "100.128.0.1",
            "2606:4700::1111",
            "::ffff:8.8.8.8",
            "64:ff9b::808:808",
        ] {
            assert_eq!(classify(ip(address)), None, "{address}");
        }
    }

    #[test]
    fn every_private_class_is_refused_but_can_be_allowed() {
        for (address, reason) in [
            ("127.0.0.1", "loopback"),
            ("127.0.0.2", "loopback"),
            ("10.1.2.3", "private"),
            ("172.16.0.1", "private"),
            ("172.31.255.255", "private"),
            ("192.168.1.1", "private"),
            ("100.64.0.1", "CGNAT"),
            ("100.127.255.254", "CGNAT"),
            ("169.254.1.1", "link-local"),
            ("::1", "loopback"),
            ("fe80::1", "link-local"),
            ("fc00::1", "unique-local"),
            ("fd12:3456::1", "unique-local"),
            ("::ffff:127.0.0.1", "loopback"),
            ("::ffff:10.0.0.1", "private"),
            ("::127.0.0.1", "loopback"),
            ("64:ff9b::a00:1", "private"),
            ("2002:c0a8:0101::1", "private"),
        ] {
            let err = check_address("h", ip(address), &STRICT).unwrap_err();
            assert!(
                matches!(&err, SsrfError::Private { reason: r, .. } if r.contains(reason)),
                "{address}: {err}"
            );
            assert!(err.to_string().contains(ENV_ALLOW_PRIVATE), "{err}");
            assert_eq!(check_address("h", ip(address), &LOOSE), Ok(()), "{address}");
        }
    }

    #[test]
    fn never_allowed_classes_stay_refused() {
        for address in [
            "0.0.0.0",
            "0.1.2.3",
            "255.255.255.255",
            "224.0.0.1",
            "239.255.255.250",
            "240.0.0.1",
            "192.0.2.1",
            "198.51.100.7",
            "203.0.113.9",
            "198.18.0.1",
            "192.0.0.8",
            "::",
            "ff02::1",
            "2001:db8::1",
            "3fff::1",
            "100::1",
            "::ffff:255.255.255.255",
            "::ffff:224.0.0.1",
            "169.254.169.254",
            "::ffff:169.254.169.254",
            "fd00:ec2::254",
        ] {
            for policy in [STRICT, LOOSE] {
                let err = check_address("h", ip(address), &policy).unwrap_err();
                assert!(
                    matches!(err, SsrfError::Forbidden { .. }),
                    "{address}: {err}"
                );
            }
        }
    }

    #[test]
    fn alternative_spellings_of_loopback_are_caught() {
        for url in [
            "http://2130706433/",
            "http://0x7f.1/",
            "http://0x7f000001/",
            "http://0177.0.0.1/",
            "http://127.1/",
            "http://[::ffff:127.0.0.1]/",
            "http://[::ffff:7f00:1]/",
            "http://[::1]:8080/hook",
            "HTTP://127.0.0.1/",
            "http://127.0.0.1./",
        ] {
            let err = vet_now(url, HTTP).unwrap_err();
            assert!(
                matches!(
                    err,
                    SsrfError::Private {
                        reason: "a loopback address",
                        ..
                    }
                ),
                "{url}: {err}"
            );
        }
    }

    #[test]
    fn userinfo_is_refused_and_does_not_hide_the_host() {
        assert_eq!(
            vet_now("https://example.com@127.0.0.1/", STRICT).unwrap_err(),
            SsrfError::Userinfo
        );
        assert_eq!(
            vet_now("https://user:pw@example.com/", STRICT).unwrap_err(),
            SsrfError::Userinfo
        );
    }

    #[test]
    fn schemes_other_than_https_are_refused_unless_http_is_allowed() {
        assert_eq!(
            vet_now("http://8.8.8.8/", STRICT).unwrap_err(),
            SsrfError::Http
        );
        assert!(vet_now("http://8.8.8.8/", HTTP).is_ok());
        assert!(vet_now("HTTPS://8.8.8.8/hook", STRICT).is_ok());
        for url in ["file:///etc/passwd", "gopher://x/", "ftp://8.8.8.8/"] {
            assert!(
                matches!(vet_now(url, LOOSE).unwrap_err(), SsrfError::Scheme(_)),
                "{url}"
            );
        }
        assert_eq!(vet_now("not a url", LOOSE).unwrap_err(), SsrfError::Parse);
        assert_eq!(vet_now("", LOOSE).unwrap_err(), SsrfError::Parse);
    }

    #[test]
    fn local_and_metadata_names_are_refused_before_resolving() {
        for url in [
            "https://localhost/",
            "https://LOCALHOST./",
            "https://api.localhost/",
            "https://metadata.google.internal/computeMetadata/v1/",
        ] {
            assert!(
                matches!(
                    vet_now(url, STRICT).unwrap_err(),
                    SsrfError::BlockedName { .. }
                ),
                "{url}"
            );
        }
        assert!(matches!(
            vet_now("http://metadata.google.internal/", LOOSE).unwrap_err(),
            SsrfError::BlockedName { .. }
        ));
    }

    #[test]
    fn allowed_localhost_is_resolved_and_pinned() {
        let vetted = vet_now("http://localhost:9/hook", LOOSE).unwrap();
        assert!(!vetted.addresses().is_empty());
        assert!(vetted.addresses().iter().all(|a| a.ip().is_loopback()));
    }

    #[test]
    fn redaction_keeps_only_scheme_and_host() {
        assert_eq!(
            redact("https://hooks.slack.com/services/T0/B0/secret?x=1"),
            "https://hooks.slack.com/…"
        );
        assert_eq!(
            redact("http://127.0.0.1:8080/secret"),
            "http://127.0.0.1:8080/…"
        );
        assert_eq!(redact("::nonsense"), "…");
        let vetted = vet_now("https://8.8.8.8/secret-path", STRICT).unwrap();
        assert!(!format!("{vetted:?}").contains("secret-path"));
        let err = vet_now("http://10.0.0.1/secret-path", HTTP).unwrap_err();
        assert!(!err.to_string().contains("secret-path"), "{err}");
    }
}
