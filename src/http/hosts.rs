//! At most N requests in flight to one host: one semaphore per (scheme, host, port), made on
//! first use, shared by every task using the client.

use reqwest::Url;
use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use tokio::sync::{OwnedSemaphorePermit, Semaphore};

#[derive(Debug)]
pub struct HostLimits {
    per_host: usize,
    hosts: Mutex<HashMap<String, Arc<Semaphore>>>,
}

impl HostLimits {
    pub fn new(per_host: usize) -> Self {
        HostLimits {
            per_host: per_host.max(1),
            hosts: Mutex::new(HashMap::new()),
        }
    }

    /// Waits for a free slot for `url`'s host; the slot is released when the permit drops.
    pub async fn acquire(&self, url: &Url) -> OwnedSemaphorePermit {
        let semaphore = {
            let mut hosts = self.hosts.lock().unwrap_or_else(|p| p.into_inner());
            Arc::clone(
                hosts
                    .entry(host_key(url))
                    .or_insert_with(|| Arc::new(Semaphore::new(self.per_host))),
            )
        };
        semaphore
            .acquire_owned()
            .await
            .expect("host semaphores are never closed")
    }
}

/// `https://api.osv.dev` and `https://api.osv.dev:443/v1` share a key; other ports do not.
fn host_key(url: &Url) -> String {
    format!(
        "{}://{}:{}",
        url.scheme(),
        url.host_str().unwrap_or_default(),
        url.port_or_known_default().unwrap_or(0)
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    fn url(text: &str) -> Url {
        Url::parse(text).unwrap()
    }

    #[test]
    fn default_port_and_path_do_not_split_a_host() {
        assert_eq!(
            host_key(&url("https://api.osv.dev/v1/query")),
            host_key(&url("https://API.osv.dev:443/v1/vulns/X"))
        );
        assert_ne!(
            host_key(&url("http://127.0.0.1:8080/")),
            host_key(&url("http://127.0.0.1:8081/"))
        );
    }

    #[tokio::test]
    async fn a_full_host_waits_while_another_host_proceeds() {
        let limits = HostLimits::new(1);
        let held = limits.acquire(&url("http://a.test/")).await;
        let same = tokio::time::timeout(
            Duration::from_millis(50),
            limits.acquire(&url("http://a.test/other")),
        )
        .await;
        assert!(same.is_err(), "second permit for a full host was granted");
        let other = tokio::time::timeout(
            Duration::from_millis(50),
            limits.acquire(&url("http://b.test/")),
        )
        .await;
        assert!(other.is_ok());
        drop(held);
        let again = tokio::time::timeout(
            Duration::from_millis(50),
            limits.acquire(&url("http://a.test/")),
        )
        .await;
        assert!(again.is_ok(), "released permit was not handed on");
    }
}
